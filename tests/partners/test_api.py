"""The partners REST API through real HTTP requests."""

import json

import pytest

from partners.models import Membership, Organisation, Service
from tests.factories import OperationFactory, ServiceCategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    return response.json()["error"]


# Me ----------------------------------------------------------------------------------------


def test_me_tells_user_organisation_and_role(api, org_a):
    body = api(org_a.focal_point).get("/api/v1/me").json()
    assert body["username"] == org_a.focal_point.username
    assert body["organisation"]["acronym"] == "ORGA"
    assert body["role"] == "focal_point"
    assert body["is_platform_admin"] is False


# Memberships: focal point manages their own organisation only ---------------------------------


def test_focal_point_adds_a_caseworker_to_own_organisation(api, org_a):
    response = api(org_a.focal_point).post(
        "/api/v1/memberships",
        {"username": "new.cw", "role": "caseworker", "email": "new.cw@example.org"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Membership.objects.get(user__username="new.cw").organisation == org_a


def test_adding_a_second_focal_point_is_refused_with_a_clear_error(api, org_a):
    response = api(org_a.focal_point).post(
        "/api/v1/memberships",
        {"username": "fp2", "role": "focal_point", "email": "fp2@example.org"},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "role_not_assignable"
    assert error_of(response)["fields"] == {"role": [error_of(response)["message"]]}


def test_caseworker_cannot_add_members(api, org_a):
    response = api(org_a.caseworker).post(
        "/api/v1/memberships", {"username": "x", "role": "viewer"}, format="json"
    )
    assert response.status_code == 403


def test_memberships_list_shows_only_own_organisation(api, org_a, org_b):
    body = api(org_a.focal_point).get("/api/v1/memberships").json()
    usernames = {row["username"] for row in body["results"]}
    assert usernames == {org_a.focal_point.username, org_a.caseworker.username}


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"role": "viewer"}),
        ("post", "/deactivate", None),
    ],
)
def test_focal_point_of_a_gets_404_for_memberships_of_b(api, org_a, org_b, method, suffix, payload):
    membership = Membership.objects.get(user=org_b.caseworker)
    client = api(org_a.focal_point)
    response = getattr(client, method)(f"/api/v1/memberships/{membership.id}{suffix}", payload, format="json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    membership.refresh_from_db()
    assert membership.is_active and membership.role == "caseworker"


def test_focal_point_sets_role_and_deactivates_own_member(api, org_a):
    membership = Membership.objects.get(user=org_a.caseworker)
    client = api(org_a.focal_point)
    assert (
        client.patch(f"/api/v1/memberships/{membership.id}", {"role": "viewer"}, format="json").json()["role"]
        == "viewer"
    )
    assert client.post(f"/api/v1/memberships/{membership.id}/deactivate").json()["is_active"] is False


def test_deactivated_user_cannot_use_the_api(api, org_a):
    client = api(org_a.caseworker)
    org_a.caseworker.is_active = False
    org_a.caseworker.save()
    assert client.get("/api/v1/me").status_code == 401


# Organisations: platform admins ---------------------------------------------------------------


def test_platform_admin_creates_organisation_records_agreement_and_appoints_focal_point(api, platform_admin):
    operation = OperationFactory()
    client = api(platform_admin)
    created = client.post(
        "/api/v1/organisations",
        {"name": "Hope Trust", "acronym": "HT", "kind": "national_ngo", "operation": operation.name},
        format="json",
    )
    assert created.status_code == 201, created.json()
    org_id = created.json()["id"]
    assert created.json()["has_focal_point"] is False
    agreement = client.post(
        f"/api/v1/organisations/{org_id}/data-sharing-agreement",
        {"signed_on": "2026-01-01", "expires_on": "2027-01-01"},
        format="json",
    )
    assert agreement.status_code == 200
    appointed = client.post(
        f"/api/v1/organisations/{org_id}/focal-point",
        {"username": "hope.fp", "create_user": True, "first_name": "Hope", "email": "hope@example.org"},
        format="json",
    )
    assert appointed.status_code == 200, appointed.json()
    assert appointed.json()["role"] == "focal_point"
    assert client.get(f"/api/v1/organisations/{org_id}").json()["has_focal_point"] is True


def test_agreement_that_expires_before_signature_is_a_400(api, platform_admin, org_a):
    response = api(platform_admin).post(
        f"/api/v1/organisations/{org_a.id}/data-sharing-agreement",
        {"signed_on": "2026-05-01", "expires_on": "2026-04-01"},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "dsa_expiry_before_signature"


@pytest.mark.parametrize("who", ["focal_point", "caseworker"])
def test_partners_cannot_create_organisations_or_appoint(api, org_a, who):
    client = api(getattr(org_a, who))
    created = client.post(
        "/api/v1/organisations",
        {"name": "Rogue", "acronym": "RG", "kind": "national_ngo", "operation": org_a.operation.name},
        format="json",
    )
    assert created.status_code == 403
    appointed = client.post(
        f"/api/v1/organisations/{org_a.id}/focal-point", {"username": org_a.caseworker.username}
    )
    assert appointed.status_code == 403
    assert not Organisation.objects.filter(acronym="RG").exists()


# Services ----------------------------------------------------------------------------------


def test_any_member_reads_the_whole_directory(api, org_a, org_b):
    ServiceFactory(organisation=org_b, name="B's clinic")
    names = [row["name"] for row in api(org_a.caseworker).get("/api/v1/services").json()["results"]]
    assert "B's clinic" in names


def test_focal_point_creates_and_edits_own_service(api, org_a):
    category = ServiceCategoryFactory(code="legal_aid")
    client = api(org_a.focal_point)
    created = client.post(
        "/api/v1/services",
        {"name": "Legal desk", "category": "legal_aid", "required_fields": ["given_name", "phone"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["organisation"]["acronym"] == "ORGA"
    service_id = created.json()["id"]
    edited = client.patch(
        f"/api/v1/services/{service_id}",
        {
            "is_accepting_referrals": False,
            "response_hours_urgent": 48,
            "optional_fields": ["narrative"],
            "outcome_due_days": 30,
        },
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["outcome_due_days"] == 30
    refused = client.patch(f"/api/v1/services/{service_id}", {"outcome_due_days": 400}, format="json")
    assert refused.status_code == 400 and "outcome_due_days" in json.dumps(refused.json())
    never = client.patch(f"/api/v1/services/{service_id}", {"outcome_due_days": None}, format="json")
    assert never.status_code == 200 and never.json()["outcome_due_days"] is None
    service = Service.objects.get(pk=service_id)
    assert (service.is_accepting_referrals, service.response_hours_urgent, service.category) == (
        False,
        48,
        category,
    )
    assert service.history.first().history_user == org_a.focal_point


def test_focal_point_of_a_cannot_edit_service_of_b(api, org_a, org_b):
    service = ServiceFactory(organisation=org_b)
    response = api(org_a.focal_point).patch(
        f"/api/v1/services/{service.id}", {"is_accepting_referrals": False}, format="json"
    )
    assert response.status_code == 403
    service.refresh_from_db()
    assert service.is_accepting_referrals is True


def test_focal_point_of_a_cannot_create_a_service_for_b(api, org_a, org_b):
    ServiceCategoryFactory(code="health")
    response = api(org_a.focal_point).post(
        "/api/v1/services",
        {"name": "Sneaky", "category": "health", "organisation": str(org_b.id)},
        format="json",
    )
    # the organisation field is for platform admins; a focal point's service is always their own
    assert response.status_code == 201
    assert Service.objects.get(name="Sneaky").organisation == org_a


def test_caseworker_cannot_edit_own_organisations_service(api, org_a):
    service = ServiceFactory(organisation=org_a)
    response = api(org_a.caseworker).patch(f"/api/v1/services/{service.id}", {"name": "x"}, format="json")
    assert response.status_code == 403


def test_unknown_disclosure_field_is_a_400_naming_it(api, org_a):
    ServiceCategoryFactory(code="mhpss")
    response = api(org_a.focal_point).post(
        "/api/v1/services",
        {"name": "Counselling", "category": "mhpss", "required_fields": ["given_name", "shoe_size"]},
        format="json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "unknown_disclosure_field"
    assert "shoe_size" in error["message"]
    assert "required_fields" in error["fields"]


def test_service_filters(api, org_a, org_b):
    health = ServiceCategoryFactory(code="health")
    ServiceFactory(organisation=org_a, category=health, name="Clinic A")
    ServiceFactory(organisation=org_b, category=health, name="Clinic B", is_accepting_referrals=False)
    ServiceFactory(organisation=org_b, name="Other B")
    client = api(org_a.caseworker)
    by_category = client.get("/api/v1/services", {"category": "health"}).json()["results"]
    assert sorted(row["name"] for row in by_category) == ["Clinic A", "Clinic B"]
    accepting = client.get("/api/v1/services", {"category": "health", "accepting": "true"}).json()["results"]
    assert [row["name"] for row in accepting] == ["Clinic A"]
    by_org = client.get("/api/v1/services", {"organisation": str(org_b.id)}).json()["results"]
    assert sorted(row["name"] for row in by_org) == ["Clinic B", "Other B"]


# Bad input never produces a 500 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "x", "category":', None),
        ('["not", "an", "object"]', None),
        ('{"name": 12, "category": "mhpss", "min_age": "ten"}', "min_age"),
        ('{"name": "x", "category": "mhpss", "required_fields": "phone"}', "required_fields"),
        ('{"name": "' + "x" * 500 + '", "category": "mhpss"}', "name"),
        ('{"name": "x", "category": "mhpss", "colour": "red"}', "colour"),
        ('{"name": "x", "category": "mhpss", "min_age": 30, "max_age": 10}', None),
        ('{"name": "x", "category": "mhpss", "locations": ["not-a-uuid"]}', "locations"),
    ],
)
def test_malformed_input_is_a_400_never_a_500(api, org_a, body, field):
    ServiceCategoryFactory(code="mhpss")
    response = api(org_a.focal_point).post("/api/v1/services", body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] and error["message"]
    if field:
        assert field in error["fields"]


def test_bad_uuid_in_url_is_a_404(api, org_a):
    assert api(org_a.caseworker).get("/api/v1/services/not-a-uuid").status_code == 404
    assert api(org_a.caseworker).get("/api/v1/memberships/not-a-uuid").status_code == 404


def test_oversized_body_is_a_413_in_the_error_shape(api, org_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(org_a.focal_point).post(
        "/api/v1/services", '{"name": "' + "x" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/memberships", {"username": "x", "role": "viewer"}),
        ("/api/v1/services", {"name": "x", "category": "mhpss"}),
    ],
)
def test_users_without_an_organisation_get_403_not_400(api, path, body):
    from tests.factories import UserFactory

    ServiceCategoryFactory(code="mhpss")
    response = api(UserFactory()).post(path, body, format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "focal_point_required"
