"""Read-only admin views of persons, consent records and requests, scoped like the API.

Only members of the holding organisation see its rows (platform admins and superusers see no
case data by virtue of their role). Writes go through the API, which calls the services.
"""

from django.contrib import admin

from consent.models import ConsentRecord, DataSubjectRequest, Person
from consent.selectors import consent_list_visible, data_subject_request_list_visible, person_list_visible


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    selector = None

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


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ScopedReadOnlyAdmin):
    selector = consent_list_visible
    list_display = ["__str__", "person", "legal_basis", "status", "expires_on", "obtained_at"]
    list_filter = ["status", "legal_basis", "collection_method"]


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ScopedReadOnlyAdmin):
    selector = data_subject_request_list_visible
    list_display = ["__str__", "person", "kind", "status", "received_on", "due_on"]
    list_filter = ["kind", "status"]
