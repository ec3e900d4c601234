"""Django admin for referrals: only what carries no personal data."""

from django.contrib import admin

from referrals.models import InformationGiven, Notification

# Referrals are worked through the APIs, where every read is permission-scoped and logged; the
# admin shows only what carries no personal data: the notification outbox and information given.


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "reference", "recipient", "sent_at"]
    list_filter = ["kind", "sent_at"]
    readonly_fields = ["recipient", "kind", "referral", "reference", "link", "created_at", "sent_at"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InformationGiven)
class InformationGivenAdmin(admin.ModelAdmin):
    list_display = ["at", "service", "channel", "organisation"]
    list_filter = ["channel", "organisation", "service__category"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
