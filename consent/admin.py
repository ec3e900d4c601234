"""Read-only admin views of persons, consent records and requests, scoped like the API.

Only members of the holding organisation see its rows (platform admins and superusers see no
case data by virtue of their role). Writes go through the API, which calls the services.
"""

from django.contrib import admin

from consent.models import ConsentRecord, DataSubjectRequest, Person, PersonReadLog
from consent.selectors import consent_list_visible, data_subject_request_list_visible, person_list_visible
from consent.services import personal_data_read


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    """Reads are logged like the API's: one row per person on a list page or a detail page."""

    selector = None
    read_what = PersonReadLog.What.PERSON

    @staticmethod
    def person_of(obj):
        return obj.person_id

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        if changelist is not None:
            self._log(request, [self.person_of(obj) for obj in changelist.result_list])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (
            getattr(response, "context_data", {}).get("original") if response.status_code == 200 else None
        )
        if original is not None:
            self._log(request, [self.person_of(original)])
        return response

    def _log(self, request, person_ids) -> None:
        if person_ids:
            personal_data_read(user=request.user, person_ids=person_ids, what=self.read_what, api="admin")

    def get_queryset(self, request):
        return type(self).selector(user=request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ScopedReadOnlyAdmin):
    selector = person_list_visible
    list_display = ["__str__", "given_name", "family_name", "sex", "age_band", "location", "erased_at"]
    list_filter = ["sex", "age_band"]
    exclude = ["registration_number_hash"]

    @staticmethod
    def person_of(obj):
        return obj.pk


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ScopedReadOnlyAdmin):
    selector = consent_list_visible
    read_what = PersonReadLog.What.CONSENT
    list_display = ["__str__", "person", "legal_basis", "status", "expires_on", "obtained_at"]
    list_filter = ["status", "legal_basis", "collection_method"]


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ScopedReadOnlyAdmin):
    selector = data_subject_request_list_visible
    read_what = PersonReadLog.What.REQUEST
    list_display = ["__str__", "person", "kind", "status", "received_on", "due_on"]
    list_filter = ["kind", "status"]
