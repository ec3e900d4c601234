"""The consent REST API through real HTTP requests: scoping, writes, receipts and FHIR."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import ConsentRecord
from tests.conftest import admin_login
from tests.consent.conftest import scope
from tests.factories import ConsentRecordFactory, PersonFactory

pytestmark = pytest.mark.django_db


def body(**overrides) -> dict:
    data = scope(**overrides)
    data["expires_on"] = str(data["expires_on"])
    return data


# Organisation scoping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/persons/{person}",
        "/api/v1/consents/{consent}",
        "/api/v1/consents/{consent}/receipt",
        "/api/v1/consents/{consent}/receipt?format=json",
        "/api/v1/consents/{consent}/fhir",
        "/api/v1/data-subject-requests/{request}",
    ],
)
def test_another_organisations_records_are_not_found(api, org_a, org_b, consent_a, adult_a, path):
    request = services.data_subject_request_create(
        actor=org_a.caseworker, person=adult_a, kind="access", channel="phone"
    )
    url = path.format(person=adult_a.pk, consent=consent_a.pk, request=request.pk)
    assert api(org_a.caseworker).get(url).status_code == 200
    response = api(org_b.focal_point).get(url)
    assert response.status_code == 404
    assert "Amani" not in response.content.decode()


@pytest.mark.parametrize(
    "path,data",
    [
        ("/api/v1/consents/{consent}/withdraw", {"channel": "phone"}),
        ("/api/v1/consents/{consent}/versions", {"data_categories": ["phone"]}),
        ("/api/v1/persons/{person}", None),
    ],
)
def test_another_organisation_cannot_write(api, org_b, consent_a, adult_a, path, data):
    url = path.format(person=adult_a.pk, consent=consent_a.pk)
    client = api(org_b.focal_point)
    response = (
        client.post(url, data, format="json") if data else client.patch(url, {"phone": "0"}, format="json")
    )
    assert response.status_code == 404
    consent_a.refresh_from_db()
    assert consent_a.status == "active"


def test_creating_a_consent_for_another_organisations_person_is_not_found(api, org_b, adult_a, gbv):
    response = api(org_b.focal_point).post(
        "/api/v1/consents", {"person": str(adult_a.pk), **body()}, format="json"
    )
    assert response.status_code == 404
    assert not ConsentRecord.objects.exists()


def test_lists_hold_only_your_organisations_rows(api, org_a, org_b, consent_a):
    PersonFactory(organisation=org_b)
    ConsentRecordFactory(person=PersonFactory(organisation=org_b))
    assert [p["id"] for p in api(org_a.caseworker).get("/api/v1/persons").json()["results"]] == [
        str(consent_a.person_id)
    ]
    assert [c["id"] for c in api(org_a.caseworker).get("/api/v1/consents").json()["results"]] == [
        str(consent_a.pk)
    ]


def test_platform_admin_sees_no_case_data(api, platform_admin, consent_a):
    assert api(platform_admin).get("/api/v1/persons").json()["count"] == 0
    assert api(platform_admin).get(f"/api/v1/consents/{consent_a.pk}").status_code == 404


def test_anonymous_is_refused(api, consent_a):
    assert api(None).get(f"/api/v1/consents/{consent_a.pk}/receipt").status_code == 401


# Persons -----------------------------------------------------------------------------------


def test_register_and_find_a_person_by_registration_number(api, org_a):
    client = api(org_a.caseworker)
    response = client.post(
        "/api/v1/persons",
        {"registration_number": "KAK-99-1", "given_name": "Nadia", "phone": "+254 1", "age_band": "18_59"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+254 1"
    found = client.post("/api/v1/persons/search", {"registration_number": "kak 99 1"}, format="json").json()
    assert [p["given_name"] for p in found] == ["Nadia"]
    assert (
        client.post("/api/v1/persons/search", {"registration_number": "KAK-99-2"}, format="json").json() == []
    )
    # never in a URL, where proxies and servers write it to their access logs
    response = client.get("/api/v1/persons", {"registration_number": "kak 99 1"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "registration_number_in_url"


def test_person_unknown_field_is_a_400_naming_it(api, org_a):
    response = api(org_a.caseworker).post(
        "/api/v1/persons", {"age_band": "18_59", "religion": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "religion" in response.json()["error"]["fields"]


def test_viewer_reads_but_cannot_register(api, viewer_a, adult_a):
    client = api(viewer_a)
    assert client.get(f"/api/v1/persons/{adult_a.pk}").json()["phone"] == "+254 711 222 333"
    response = client.post("/api/v1/persons", {"age_band": "18_59"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "write_role_required"


def test_person_list_has_constant_queries(api, org_a, django_assert_num_queries):
    for _ in range(5):
        PersonFactory(organisation=org_a)
    client = api(org_a.caseworker)
    client.get("/api/v1/persons")  # warm the token
    # token (2) + membership + count + page + the read log (one insert), whatever the number of rows,
    # + 1: the data keys of the five persons on the page, loaded in one query (consent.keys)
    with django_assert_num_queries(7):
        assert client.get("/api/v1/persons").json()["count"] == 5


# Consents ----------------------------------------------------------------------------------


def test_create_consent_through_rest(api, org_a, org_b, adult_a, gbv):
    response = api(org_a.caseworker).post(
        "/api/v1/consents",
        {"person": str(adult_a.pk), **body(recipient_scope="named", recipients=[str(org_b.pk)])},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["state"], data["version"], data["recipients"]) == ("active", 1, [str(org_b.pk)])
    assert data["obtained_by"] == org_a.caseworker.username


@pytest.mark.parametrize(
    "overrides,code,field",
    [
        ({"legal_basis": "mandate"}, "non_consent_basis_not_permitted", "legal_basis"),
        ({"data_categories": ["given_name", "all"]}, "unknown_data_category", "data_categories"),
        ({"purposes": ["nope"]}, "unknown_purpose", "purposes"),
        ({"expires_on": "2001-01-01"}, "consent_expiry_in_past", "expires_on"),
        ({"language": "Arabic"}, "invalid_language", "language"),
    ],
)
def test_bad_consent_input_is_a_4xx_naming_the_problem(api, org_a, adult_a, gbv, overrides, code, field):
    response = api(org_a.caseworker).post(
        "/api/v1/consents", {"person": str(adult_a.pk), **body(**overrides)}, format="json"
    )
    assert response.status_code in (400, 403)
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == (code, [field])


def test_missing_justification_through_rest(api, deciding_officer, adult_a, gbv):
    response = api(deciding_officer).post(
        "/api/v1/consents", {"person": str(adult_a.pk), **body(legal_basis="vital_interest")}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "justification_required"


def test_minor_consent_errors_name_what_is_missing(api, org_a, child_a, gbv):
    client = api(org_a.caseworker)
    response = client.post("/api/v1/consents", {"person": str(child_a.pk), **body()}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "child_assent_missing")
    response = client.post(
        "/api/v1/consents", {"person": str(child_a.pk), **body(child_assent=True)}, format="json"
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["missing"]) == (
        400,
        "guardian_consent_missing",
        ["guardian_name", "guardian_relationship"],
    )


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_consent_records_cannot_be_updated_through_rest(api, org_a, consent_a, method):
    response = getattr(api(org_a.focal_point), method)(
        f"/api/v1/consents/{consent_a.pk}", {"data_categories": ["narrative"]}, format="json"
    )
    assert response.status_code == 405
    consent_a.refresh_from_db()
    assert consent_a.data_categories == ["given_name", "phone", "sex"]


def test_new_version_and_withdrawal_through_rest(api, org_a, consent_a):
    client = api(org_a.caseworker)
    response = client.post(
        f"/api/v1/consents/{consent_a.pk}/versions", {"data_categories": ["phone"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    new = response.json()
    assert (new["version"], new["supersedes"], new["data_categories"]) == (2, str(consent_a.pk), ["phone"])
    old = client.get(f"/api/v1/consents/{consent_a.pk}").json()
    assert (old["state"], old["superseded_by"]) == ("superseded", new["id"])

    response = client.post(f"/api/v1/consents/{new['id']}/withdraw", {"channel": "fax"}, format="json")
    assert response.status_code == 400
    response = client.post(f"/api/v1/consents/{new['id']}/withdraw", {"channel": "hotline"}, format="json")
    assert (response.status_code, response.json()["state"]) == (200, "withdrawn")
    again = client.post(f"/api/v1/consents/{new['id']}/withdraw", {"channel": "hotline"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "consent_already_withdrawn")


def test_expired_state_is_filterable(api, org_a, adult_a, consent_a):
    expired = ConsentRecordFactory(
        person=adult_a,
        obtained_at=timezone.now() - timedelta(days=30),
        expires_on=timezone.localdate() - timedelta(1),
    )
    results = api(org_a.caseworker).get("/api/v1/consents", {"state": "expired"}).json()["results"]
    assert [(r["id"], r["state"], r["status"]) for r in results] == [(str(expired.pk), "expired", "active")]


def test_consent_list_has_constant_queries(api, org_a, django_assert_num_queries):
    for index in range(4):  # four persons: four data keys
        person = PersonFactory(organisation=org_a)
        ConsentRecordFactory(person=person, obtained_by=org_a.caseworker, justification=f"Reason {index}")
    client = api(org_a.caseworker)
    client.get("/api/v1/consents")
    # token (2), membership, count, page, the read log (one insert), + 1: the justifications are
    # sealed with four persons' keys, loaded by one query
    with django_assert_num_queries(7):
        body = client.get("/api/v1/consents").json()
    assert body["count"] == 4
    assert sorted(r["justification"] for r in body["results"]) == [f"Reason {i}" for i in range(4)]


# Receipts ----------------------------------------------------------------------------------


def test_receipt_in_arabic_is_right_to_left(api, org_a, adult_a, gbv):
    record = services.consent_create(actor=org_a.caseworker, person=adult_a, **scope(language="ar"))
    response = api(org_a.caseworker).get(f"/api/v1/consents/{record.pk}/receipt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "إيصال الموافقة" in html  # "Consent receipt"
    assert re.search(r"[\u0600-\u06FF]{3,}", html)
    assert "@media print" in html


def test_receipt_in_french(api, org_a, adult_a, gbv):
    record = services.consent_create(actor=org_a.caseworker, person=adult_a, **scope(language="fr"))
    html = api(org_a.caseworker).get(f"/api/v1/consents/{record.pk}/receipt").content.decode()
    assert 'dir="ltr"' in html and "Reçu de consentement" in html and "Comment retirer" in html


def test_receipt_never_shows_sensitive_categories_or_personal_data(api, org_a, adult_a, gbv):
    record = services.consent_create(
        actor=org_a.caseworker,
        person=adult_a,
        **scope(data_categories=["given_name", "narrative", "protection_concerns"]),
    )
    client = api(org_a.caseworker)
    html = client.get(f"/api/v1/consents/{record.pk}/receipt").content.decode()
    data = client.get(f"/api/v1/consents/{record.pk}/receipt?format=json").json()
    for text in (html, str(data)):
        for secret in ("narrative", "protection", "Amani", "711 222", "KAK-23"):
            assert secret.lower() not in text.lower()
    assert data["piiCategories"] == ["given_name"]
    assert data["furtherCategoriesAgreedInPerson"] is True


def test_receipt_json_carries_the_receipt_fields(api, org_a, org_b, consent_a):
    client = api(org_a.caseworker)
    for response in (
        client.get(f"/api/v1/consents/{consent_a.pk}/receipt?format=json"),
        client.get(f"/api/v1/consents/{consent_a.pk}/receipt", HTTP_ACCEPT="application/json"),
    ):
        assert response["Content-Type"].startswith("application/json")
        data = response.json()
        for key in (
            "receiptId",
            "version",
            "consentTimestamp",
            "piiControllers",
            "purposes",
            "piiCategories",
            "recipients",
            "withdrawal",
            "language",
            "collectionMethod",
        ):
            assert data[key] not in (None, "", []), key
        assert data["piiControllers"][0]["piiController"] == org_a.name
        assert data["recipients"]["organisations"][0]["acronym"] == org_b.acronym
        assert data["purposes"][0]["purpose"] == "GBV case management"
        assert data["withdrawal"]["channels"] == ["in_person", "phone", "hotline", "written", "self_service"]


# FHIR --------------------------------------------------------------------------------------

FHIR_STATUSES = {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}


def assert_valid_fhir_r4_consent(resource: dict) -> None:
    """The cardinality-1..1 and 1..* elements of R4 Consent, and invariant ppc-1 (policy or policyRule)."""
    assert resource["resourceType"] == "Consent"
    assert resource["status"] in FHIR_STATUSES
    assert resource["scope"]["coding"][0]["system"] and resource["scope"]["coding"][0]["code"]
    assert resource["category"] and all(c["coding"][0]["code"] for c in resource["category"])
    assert resource.get("policy") or resource.get("policyRule")
    assert resource["patient"]["reference"].startswith("Patient/")
    for coding in resource["policyRule"]["coding"] + resource["provision"]["purpose"]:
        assert coding["system"].startswith("http") and coding["code"]
    assert resource["provision"]["type"] in {"deny", "permit"}


def test_fhir_export_of_active_and_withdrawn_consent(api, org_a, org_b, consent_a):
    client = api(org_a.caseworker)
    response = client.get(f"/api/v1/consents/{consent_a.pk}/fhir")
    assert response.status_code == 200
    resource = response.json()
    assert_valid_fhir_r4_consent(resource)
    assert resource["status"] == "active"
    assert resource["policyRule"]["coding"][0]["code"] == "consent"
    assert resource["provision"]["actor"][0]["reference"]["reference"] == f"Organization/{org_b.pk}"
    assert [c["code"] for c in resource["provision"]["class"]] == ["given_name", "phone", "sex"]

    services.consent_withdraw(actor=org_a.caseworker, record=consent_a, channel="phone")
    resource = client.get(f"/api/v1/consents/{consent_a.pk}/fhir").json()
    assert_valid_fhir_r4_consent(resource)
    assert resource["status"] == "inactive"


# Data-subject requests ---------------------------------------------------------------------


def test_access_request_through_rest_returns_the_export(api, org_a, adult_a, consent_a):
    client = api(org_a.caseworker)
    created = client.post(
        "/api/v1/data-subject-requests",
        {"person": str(adult_a.pk), "kind": "access", "channel": "in_person", "details": "A copy please"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["due_on"] == (timezone.localdate() + timedelta(days=30)).isoformat()
    done = client.post(f"/api/v1/data-subject-requests/{created.json()['id']}/complete", {}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["export"]["person"]["given_name"] == "Amani"
    assert done.json()["request"]["status"] == "completed"


def test_erasure_request_through_rest(api, org_a, adult_a, consent_a):
    client = api(org_a.caseworker)
    created = client.post(
        "/api/v1/data-subject-requests",
        {"person": str(adult_a.pk), "kind": "erasure", "channel": "written"},
        format="json",
    ).json()
    refused = client.post(f"/api/v1/data-subject-requests/{created['id']}/complete", {}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "focal_point_required")
    done = api(org_a.focal_point).post(
        f"/api/v1/data-subject-requests/{created['id']}/complete", {}, format="json"
    )
    assert done.status_code == 200
    person = client.get(f"/api/v1/persons/{adult_a.pk}").json()
    assert person["given_name"] is None and person["phone"] is None and person["erased_at"]
    assert client.get(f"/api/v1/consents/{consent_a.pk}").json()["state"] == "withdrawn"


# Admin -------------------------------------------------------------------------------------


def test_admin_shows_only_your_organisations_persons(client, org_a, org_b, adult_a, consent_a):
    other = PersonFactory(organisation=org_b, given_name="Zawadi")
    staff = org_a.focal_point
    staff.is_staff = True
    staff.save()
    admin_login(client, staff)
    for url in (
        "/admin/consent/person/",
        "/admin/consent/consentrecord/",
        "/admin/consent/datasubjectrequest/",
    ):
        assert client.get(url).status_code == 200
    page = client.get("/admin/consent/person/").content.decode()
    assert "Amani" in page and "Zawadi" not in page
    assert client.get(f"/admin/consent/person/{other.pk}/change/").status_code == 302  # not found → index
    assert client.get(f"/admin/consent/person/{adult_a.pk}/change/").status_code == 200
