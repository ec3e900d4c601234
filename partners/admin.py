from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from partners.models import Location, Membership, Operation, Organisation, Service, ServiceCategory


@admin.register(Operation)
class OperationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "country_code"]


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "operation", "parent", "pcode"]
    list_filter = ["operation", "kind"]
    search_fields = ["name", "pcode"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "parent"]
    search_fields = ["name", "code"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # members are added through the focal point's API or the appoint action


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "acronym", "kind", "partnership", "is_active", "dsa_expires_on"]
    list_filter = ["kind", "partnership", "is_active", "operation"]
    search_fields = ["name", "acronym"]
    readonly_fields = ["group", "created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role", "is_active"]
    list_filter = ["role", "is_active", "organisation"]
    search_fields = ["user__username", "organisation__acronym"]
    readonly_fields = ["user", "organisation", "role", "is_active", "created_at"]

    def has_add_permission(self, request):
        return False  # the one-focal-point rule lives in partners.services

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "organisation", "category", "is_active", "is_accepting_referrals"]
    list_filter = ["category", "is_accepting_referrals", "organisation"]
    search_fields = ["name", "organisation__acronym"]
    filter_horizontal = ["locations"]
