"""Every read of personal data is logged — persons, consent records and requests, on REST and in
the admin — and nothing is shown whose read could not be logged."""

import pytest

from consent import services
from consent.models import PersonReadLog
from tests.conftest import admin_login
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def rows(**filters):
    return sorted(PersonReadLog.objects.filter(**filters).values_list("person_id", "what", "api"))


def test_a_list_logs_one_row_per_person_shown_in_one_insert(api, org_a, django_assert_num_queries):
    people = [PersonFactory(organisation=org_a) for _ in range(3)]
    client = api(org_a.caseworker)
    client.get("/api/v1/persons?limit=1")  # warm the token
    PersonReadLog.objects.all().delete()
    response = client.get("/api/v1/persons")
    assert response.status_code == 200
    assert rows(user=org_a.caseworker) == sorted((p.pk, "person", "rest") for p in people)
    assert PersonReadLog.objects.get(person=people[0]).organisation == org_a


def test_detail_search_and_update_are_logged(api, org_a, adult_a):
    client = api(org_a.caseworker)
    client.get(f"/api/v1/persons/{adult_a.pk}")
    client.post("/api/v1/persons/search", {"registration_number": "KAK-23-000101"}, format="json")
    client.patch(f"/api/v1/persons/{adult_a.pk}", {"best_time_to_call": "evenings"}, format="json")
    assert rows(person=adult_a) == [(adult_a.pk, "person", "rest")] * 3


def test_a_search_that_finds_nobody_and_a_refused_read_log_nothing(api, org_a, org_b, adult_a):
    api(org_a.caseworker).post("/api/v1/persons/search", {"registration_number": "NOPE-1"}, format="json")
    assert api(org_b.caseworker).get(f"/api/v1/persons/{adult_a.pk}").status_code == 404
    assert rows() == []


def test_consent_reads_receipts_and_fhir_are_logged(api, org_a, adult_a, consent_a):
    client = api(org_a.caseworker)
    PersonReadLog.objects.all().delete()
    client.get("/api/v1/consents")
    client.get(f"/api/v1/consents/{consent_a.pk}")
    client.get(f"/api/v1/consents/{consent_a.pk}/receipt")
    client.get(f"/api/v1/consents/{consent_a.pk}/fhir")
    assert rows() == [(adult_a.pk, "consent", "rest")] * 4


def test_requests_are_logged(api, org_a, adult_a):
    request = services.data_subject_request_create(
        actor=org_a.caseworker, person=adult_a, kind="access", channel="written", details="a copy"
    )
    api(org_a.caseworker).get(f"/api/v1/data-subject-requests/{request.pk}")
    assert (adult_a.pk, "request", "rest") in rows()


def test_nothing_is_shown_when_the_read_cannot_be_logged(api, org_a, adult_a, monkeypatch):
    def broken(**_kwargs):
        raise RuntimeError("read log unavailable")

    monkeypatch.setattr(services, "personal_data_read", broken)
    client = api(org_a.caseworker)
    client.raise_request_exception = False
    response = client.get(f"/api/v1/persons/{adult_a.pk}")
    assert response.status_code == 500
    assert "Amani" not in response.content.decode()


def test_the_admin_logs_its_reads(client, org_a, adult_a):
    org_a.caseworker.is_staff = True
    org_a.caseworker.save()
    admin_login(client, org_a.caseworker)  # password and a second factor, as every staff login
    assert client.get("/admin/consent/person/").status_code == 200
    assert client.get(f"/admin/consent/person/{adult_a.pk}/change/").status_code == 200
    assert rows() == [(adult_a.pk, "person", "admin")] * 2
