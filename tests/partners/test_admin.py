"""The Django admin is one more adapter over the services: same rules as the API."""

import pytest
from django.contrib.auth.models import Permission

from partners.models import Organisation, Service
from tests.conftest import admin_login
from tests.factories import OperationFactory, ServiceCategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, platform_admin):
    platform_admin.user_permissions.add(*Permission.objects.filter(content_type__app_label="partners"))
    return admin_login(client, platform_admin)


def test_platform_admin_creates_an_organisation_in_the_admin(admin_client):
    operation = OperationFactory()
    response = admin_client.post(
        "/admin/partners/organisation/add/",
        {
            "name": "Hope Trust",
            "acronym": "HT",
            "kind": "national_ngo",
            "operation": operation.pk,
            "partnership": "none",
            "is_active": "on",
            "dsa_signed_on": "2026-01-01",
            "dsa_expires_on": "2027-01-01",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    organisation = Organisation.objects.get(acronym="HT")
    assert organisation.group.name == f"organisation:{organisation.id}"
    assert organisation.has_valid_dsa()
    assert organisation.history.first().history_user.is_staff


def test_admin_service_edit_goes_through_the_vocabulary_rule(admin_client):
    service = ServiceFactory()
    response = admin_client.post(
        f"/admin/partners/service/{service.pk}/change/",
        {
            "organisation": service.organisation.pk,
            "category": ServiceCategoryFactory().pk,
            "name": service.name,
            "required_fields": "given_name,shoe_size",
            "optional_fields": "",
            "sexes": "",
            "specific_needs": "",
            "languages": "",
            "is_active": "on",
            "is_accepting_referrals": "on",
            "response_hours_emergency": 24,
            "response_hours_urgent": 72,
            "response_hours_normal": 336,
        },
        follow=True,
    )
    assert b"shoe_size" in response.content
    service.refresh_from_db()
    assert service.required_fields == ["given_name", "phone"]


def test_partner_users_cannot_use_the_admin(client, org_a):
    client.force_login(org_a.focal_point)
    assert client.get("/admin/partners/service/").status_code == 302  # to the login page
    assert Service.objects.count() == 0
