import contextlib

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from common.errors import ServiceError
from partners import services
from partners.models import Location, Membership, Operation, Organisation, Service, ServiceCategory

User = get_user_model()

# Authenticator secrets are their owners' alone: devices are enrolled through /api/v1/auth/totp/…
# (or `manage.py totp_enrol`), never created or shown in the admin.
for model in (TOTPDevice, User):  # django.contrib.auth's User admin is replaced by AccountAdmin below
    with contextlib.suppress(NotRegistered):
        admin.site.unregister(model)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Accounts, without the ways to set another person's password.

    No account is added here (members are added by their focal point, focal points appointed by a
    platform admin; both get an activation link), and the password form answers only for your own
    account. Unticking "active" closes the account through ``user_deactivate``: it leaves its
    organisation and is signed out everywhere at once.
    """

    def has_add_permission(self, request):
        return False

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.pk == request.user.pk:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    def user_change_password(self, request, id, form_url=""):
        if str(id) != str(request.user.pk):
            raise PermissionDenied  # nobody sets another person's password
        return super().user_change_password(request, id, form_url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # after the form's groups are saved, so they cannot hand the organisation's group back
        if change and "is_active" in form.changed_data and not form.instance.is_active:
            services.user_deactivate(actor=request.user, user=form.instance)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ServiceError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)
            return self.response_post_save_change(request, None)


@admin.register(Operation)
class OperationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "country_code", "coordinator"]
    raw_id_fields = ["coordinator"]


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

    def save_model(self, request, obj, form, change):
        # the admin is one more adapter over the services: same rules as the API
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        dsa = {key: data.pop(key) for key in ("dsa_signed_on", "dsa_expires_on") if key in data}
        organisation = obj
        if not change:
            organisation = services.organisation_create(
                actor=request.user,
                name=obj.name,
                acronym=obj.acronym,
                kind=obj.kind,
                operation=obj.operation,
                partnership=obj.partnership,
                is_active=obj.is_active,
            )
            obj.pk, obj.group, obj.created_at = organisation.pk, organisation.group, organisation.created_at
            obj._state.adding = False
        elif data:
            data.pop("operation", None)
            services.organisation_update(actor=request.user, organisation=obj, **data)
        if dsa:
            services.organisation_record_dsa(
                actor=request.user,
                organisation=organisation,
                signed_on=form.cleaned_data["dsa_signed_on"],
                expires_on=form.cleaned_data["dsa_expires_on"],
            )

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ServiceError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)
            return self.response_post_save_change(request, None)


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

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name != "locations"}
        if not change:
            created = services.service_create(
                actor=request.user,
                organisation=data.pop("organisation"),
                name=data.pop("name"),
                category=data.pop("category"),
                **data,
            )
            obj.pk = created.pk
            obj._state.adding = False
        else:
            if "organisation" in data:
                raise ServiceError(
                    "A service cannot move to another organisation.", code="field_not_editable"
                )
            services.service_update(actor=request.user, service=obj, **data)

    def save_related(self, request, form, formsets, change):
        if "locations" in form.changed_data:
            services.service_update(
                actor=request.user, service=form.instance, locations=form.cleaned_data["locations"]
            )

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ServiceError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)
            return self.response_post_save_change(request, None)
