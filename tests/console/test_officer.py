"""The protection officer's pages through the real URLs: find and register a person, their page,
consent with every field the service knows, withdrawal and its cascade, requests, the receipt."""

import html
import re
from datetime import date, timedelta

import pytest

from common.errors import ServiceError
from consent import services as consent_services
from consent.models import ConsentRecord, DataSubjectRequest, Person, PersonReadLog
from referrals.models import Referral
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    """The page without its header (whose forms carry the request's path and token)."""
    return page(response).split('<main id="main"', 1)[1]


def error_of(response, field_id: str) -> str:
    """The error shown next to the field whose widget has this id ('' when there is none)."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page(response), re.S)
    if match is None:
        return ""
    text = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1))
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def registered(world, **fields):
    values = {"given_name": "Amani", "family_name": "Okello", "age_band": "18_59", **fields}
    return consent_services.person_create(actor=world.a.caseworker, **values)


def consent_post(world, **changes):
    data = {
        "collection_method": "oral",
        "language": "en",
        "purposes": ["gbv_case_management"],
        "recipient_scope": "named",
        "recipients": [str(world.b.pk)],
        "data_categories": ["given_name", "phone"],
        "expires_on": (date.today() + timedelta(days=60)).isoformat(),
        "legal_basis": "consent",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


OFFICER_URLS = [
    "/console/people",
    "/console/people/new",
    "/console/people/{person}",
    "/console/people/{person}/edit",
    "/console/people/{person}/consent/new",
    "/console/consents/{consent}/new-version",
    "/console/consents/{consent}/receipt",
]


# signed out, another organisation's, missing -----------------------------------------------------


@pytest.mark.parametrize("url", OFFICER_URLS)
def test_a_signed_out_visitor_is_sent_to_sign_in(client, world, url):
    url = url.format(person=world.person.pk, consent=world.consent.pk)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/console/sign-in?next=")


@pytest.mark.parametrize("url", OFFICER_URLS[2:])
def test_another_organisations_person_or_consent_is_the_same_404_as_a_missing_one(sign_in, world, url):
    client = sign_in(world.c.caseworker)
    theirs = client.get(url.format(person=world.person.pk, consent=world.consent.pk))
    missing = client.get(url.format(person="00000000-0000-0000-0000-000000000000", consent="0" * 32))
    garbage = client.get(url.format(person="not-an-id", consent="not-an-id"))
    assert theirs.status_code == missing.status_code == garbage.status_code == 404
    assert main_of(theirs) == main_of(missing) == main_of(garbage)


@pytest.mark.parametrize("url", ["/console/people/{person}/requests", "/console/consents/{consent}/withdraw"])
def test_posting_to_another_organisations_person_or_consent_is_a_404(sign_in, world, url):
    client = sign_in(world.c.caseworker)
    response = client.post(
        url.format(person=world.person.pk, consent=world.consent.pk),
        {"kind": "access", "channel": "phone", f"w{world.consent.pk.hex[:8]}-channel": "phone"},
    )
    assert response.status_code == 404
    assert ConsentRecord.objects.get(pk=world.consent.pk).status == "active"
    assert not DataSubjectRequest.objects.exists()


# find a person ---------------------------------------------------------------------------


def test_the_search_finds_a_person_by_whole_words_of_their_names(sign_in, world):
    person = registered(world, given_name="José Amani", family_name="al-Hassan")
    client = sign_in(world.a.caseworker)
    response = client.post("/console/people", {"name": "hassan JOSE"})
    assert response.status_code == 200
    assert f'href="/console/people/{person.pk}"' in page(response)
    assert PersonReadLog.objects.filter(person=person, api="console", what="person").count() == 1
    response = client.post("/console/people", {"name": "Hass"})  # whole words only
    assert f"/console/people/{person.pk}" not in page(response) and "Nobody of your organisation" in page(
        response
    )


def test_the_search_finds_a_person_by_registration_number(sign_in, world):
    person = registered(world, registration_number="KAK-23-000777")
    client = sign_in(world.a.viewer)  # a viewer reads
    response = client.post("/console/people", {"registration_number": "kak23000777"})
    assert f'href="/console/people/{person.pk}"' in page(response)


def test_the_search_never_finds_another_organisations_person(sign_in, world):
    person = registered(world, registration_number="KAK-23-000888", given_name="Rare")
    client = sign_in(world.c.caseworker)
    for data in ({"name": "Rare"}, {"registration_number": "KAK-23-000888"}):
        response = client.post("/console/people", data)
        assert f"/console/people/{person.pk}" not in page(response)
    assert not PersonReadLog.objects.exists()


def test_an_empty_search_says_what_to_type(sign_in, world):
    response = sign_in(world.a.caseworker).post("/console/people", {"name": " "})
    assert response.status_code == 400 and "Type a name or a registration number." in page(response)


def test_the_search_travels_by_post_never_in_the_address(sign_in, world):
    response = sign_in(world.a.caseworker).get("/console/people")
    assert '<form method="post" action="/console/people"' in page(response)


# register and edit -----------------------------------------------------------------------


def test_an_officer_registers_a_person_with_every_field(sign_in, world):
    from tests.factories import LocationFactory

    place = LocationFactory(operation=world.a.operation, name="Kakuma camp")
    client = sign_in(world.a.caseworker)
    form = page(client.get("/console/people/new"))
    for name in consent_services.PERSON_FIELDS:
        assert f'name="{name}"' in form, name
    assert "Phone call" in form and "18 to 59 years" in form  # codes shown in words
    response = client.post(
        "/console/people/new",
        {
            "registration_number": "KAK-23-000999",
            "given_name": "Halima",
            "family_name": "Adan",
            "phone": "+254 700 000 101",
            "best_time_to_call": "Mornings",
            "preferred_language": "ar",
            "preferred_channel": "phone",
            "sex": "female",
            "date_of_birth": "1995-03-14",
            "age_band": "",
            "location": str(place.pk),
            "location_detail": "Block 4",
            "specific_needs": "SP-GBV, DS-BD",
            "protection_concerns": "threats",
            "narrative": "long story",
            "household_size": "4",
        },
    )
    assert response.status_code == 302, page(response)
    person = Person.objects.exclude(pk=world.person.pk).get()
    assert response["Location"] == f"/console/people/{person.pk}"
    assert person.given_name == "Halima" and person.age_band == "18_59" and person.location == place
    assert person.specific_needs == ["SP-GBV", "DS-BD"] and person.household_size == 4
    assert person.registered_by == world.a.caseworker


def test_the_services_refusal_is_shown_next_to_its_field(sign_in, world):
    client = sign_in(world.a.caseworker)
    response = client.post("/console/people/new", {"given_name": "No age", "sex": "female"})
    assert response.status_code == 400
    assert (
        error_of(response, "id_age_band") == "Give the date of birth or, when it is not known, the age band."
    )
    assert 'aria-describedby="id_age_band-help id_age_band-error"' in page(response)
    response = client.post(
        "/console/people/new", {"sex": "female", "age_band": "18_59", "preferred_language": "Arabic"}
    )
    assert response.status_code == 400 and "language code" in error_of(response, "id_preferred_language")
    assert Person.objects.count() == 1  # the world's own


def test_bad_input_is_named_next_to_the_field(sign_in, world):
    response = sign_in(world.a.caseworker).post(
        "/console/people/new",
        {"sex": "female", "age_band": "18_59", "household_size": "0", "date_of_birth": "x"},
    )
    assert response.status_code == 400
    assert error_of(response, "id_household_size") and error_of(response, "id_date_of_birth")


def test_a_duplicate_registration_number_is_a_conflict_next_to_the_number(sign_in, world):
    registered(world, registration_number="KAK-1")
    response = sign_in(world.a.caseworker).post(
        "/console/people/new", {"sex": "female", "age_band": "18_59", "registration_number": "kak 1"}
    )
    assert response.status_code == 409
    assert "already registered" in error_of(response, "id_registration_number")


def test_a_viewer_cannot_register_a_person(sign_in, world):
    response = sign_in(world.a.viewer).post("/console/people/new", {"sex": "female", "age_band": "18_59"})
    assert response.status_code == 403 and "Viewers may read" in page(response)
    assert Person.objects.count() == 1  # the world's own


def test_editing_saves_what_changed_and_the_name_search_follows(sign_in, world):
    person = registered(world, given_name="Amani")
    client = sign_in(world.a.caseworker)
    form = page(client.get(f"/console/people/{person.pk}/edit"))
    assert 'value="Amani"' in form
    data = {"given_name": "Neema", "family_name": "Okello", "sex": "unknown", "age_band": "18_59"}
    response = client.post(f"/console/people/{person.pk}/edit", data)
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).given_name == "Neema"
    assert f"/console/people/{person.pk}" in page(client.post("/console/people", {"name": "neema"}))
    assert f"/console/people/{person.pk}" not in page(client.post("/console/people", {"name": "amani"}))


# the person page ---------------------------------------------------------------------------


def test_the_person_page_shows_details_and_consent_in_words_and_logs_the_read(sign_in, world):
    client = sign_in(world.a.caseworker)
    referral = world.send()
    response = client.get(f"/console/people/{world.person.pk}")
    body = main_of(response)
    assert response.status_code == 200 and "Amal" in body
    assert "Active" in body and "GBV case management" in body
    assert "Phone number" in body and "Given name" in body and "given_name" not in body
    assert "Organisation B (B)" in body
    assert f'href="/console/referrals/{referral.pk}"' in body and referral.reference in body
    assert f'href="/console/people/{world.person.pk}/send"' in body
    assert f'href="/console/consents/{world.consent.pk}/receipt"' in body
    assert set(PersonReadLog.objects.filter(api="console").values_list("what", flat=True)) == {
        "person",
        "consent",
    }


def test_a_viewer_reads_the_person_page_without_the_recording_links(sign_in, world):
    response = sign_in(world.a.viewer).get(f"/console/people/{world.person.pk}")
    assert response.status_code == 200
    assert "/consent/new" not in main_of(response) and "Record a request" not in main_of(response)


def test_withdrawing_says_what_the_cascade_did(sign_in, world):
    referral = world.send()
    client = sign_in(world.a.caseworker)
    prefix = f"w{world.consent.pk.hex[:8]}"
    response = client.post(
        f"/console/consents/{world.consent.pk}/withdraw",
        {f"{prefix}-channel": "phone", f"{prefix}-reason": "changed her mind"},
        follow=True,
    )
    assert response.status_code == 200
    body = main_of(response)
    assert "1 referral that rested on it was withdrawn." in body
    assert "told to delete their copy: Organisation B" in body
    assert "Withdrawn" in body
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.WITHDRAWN
    record = ConsentRecord.objects.get(pk=world.consent.pk)
    assert record.status == "withdrawn" and record.withdrawal_channel == "phone"


def test_withdrawing_twice_is_a_conflict_shown_on_the_page(sign_in, world):
    consent_services.consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="phone")
    prefix = f"w{world.consent.pk.hex[:8]}"
    response = sign_in(world.a.caseworker).post(
        f"/console/consents/{world.consent.pk}/withdraw", {f"{prefix}-channel": "phone"}
    )
    assert response.status_code == 409 and "already been withdrawn" in page(response)


def test_a_viewer_may_record_a_withdrawal(sign_in, world):
    # the service lets a viewer record it: a person's withdrawal never waits for the right colleague
    prefix = f"w{world.consent.pk.hex[:8]}"
    response = sign_in(world.a.viewer).post(
        f"/console/consents/{world.consent.pk}/withdraw", {f"{prefix}-channel": "in_person"}
    )
    assert response.status_code == 302
    assert ConsentRecord.objects.get(pk=world.consent.pk).status == "withdrawn"


def test_a_data_subject_request_is_recorded_and_listed_with_its_due_date(sign_in, world, settings):
    client = sign_in(world.a.caseworker)
    response = client.post(
        f"/console/people/{world.person.pk}/requests",
        {"kind": "correction", "channel": "hotline", "details": "phone number changed"},
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert request.due_on == date.today() + timedelta(days=settings.DATA_SUBJECT_REQUEST_DUE_DAYS)
    body = main_of(client.get(f"/console/people/{world.person.pk}"))
    assert "A correction" in body and "Open" in body
    assert date_format_short(request.due_on) in body


def date_format_short(value) -> str:
    from django.utils.formats import date_format

    return date_format(value, "SHORT_DATE_FORMAT")


def test_a_request_refused_by_the_service_is_shown_next_to_its_field(sign_in, world):
    future = (date.today() + timedelta(days=2)).isoformat()
    response = sign_in(world.a.caseworker).post(
        f"/console/people/{world.person.pk}/requests",
        {"kind": "access", "channel": "phone", "received_on": future},
    )
    assert response.status_code == 400
    assert error_of(response, "dsr-received_on") == "The request cannot be received in the future."
    assert not DataSubjectRequest.objects.exists()


# consent ---------------------------------------------------------------------------------


def test_the_consent_form_offers_every_field_the_service_knows(sign_in, world):
    body = page(sign_in(world.a.caseworker).get(f"/console/people/{world.person.pk}/consent/new"))
    for name in (
        "collection_method",
        "language",
        "interpreter_used",
        "obtained_at",
        "purposes",
        "recipient_scope",
        "recipients",
        "data_categories",
        "expires_on",
        "legal_basis",
        "justification",
        "child_assent",
        "guardian_name",
        "guardian_relationship",
        "unaccompanied_or_separated",
        "best_interests_reference",
    ):
        assert f'name="{name}"' in body, name
    assert "Case narrative (sensitive" in body and "Best interests of the child" in body


def test_an_officer_records_consent_and_lands_on_the_receipt(sign_in, world):
    client = sign_in(world.a.caseworker)
    response = client.post(
        f"/console/people/{world.person.pk}/consent/new", consent_post(world, interpreter_used="on")
    )
    assert response.status_code == 302, page(response)
    record = ConsentRecord.objects.exclude(pk=world.consent.pk).get()
    assert response["Location"] == f"/console/consents/{record.pk}/receipt"
    assert record.interpreter_used and record.recipients == [world.b.pk]
    assert record.obtained_by == world.a.caseworker and record.data_categories == ["given_name", "phone"]


def test_a_minors_consent_needs_the_childs_assent_next_to_that_field(sign_in, world):
    child = registered(world, age_band="12_17")
    client = sign_in(world.a.caseworker)
    response = client.post(f"/console/people/{child.pk}/consent/new", consent_post(world))
    assert response.status_code == 400
    assert error_of(response, "id_child_assent") == "The person is a minor: record the child's assent."
    response = client.post(f"/console/people/{child.pk}/consent/new", consent_post(world, child_assent="yes"))
    assert response.status_code == 400 and "guardian" in error_of(response, "id_guardian_name")
    response = client.post(
        f"/console/people/{child.pk}/consent/new",
        consent_post(world, child_assent="yes", guardian_name="Mama", guardian_relationship="mother"),
    )
    assert response.status_code == 302
    assert ConsentRecord.objects.get(person=child).child_assent is True


def test_another_legal_basis_needs_the_permission(sign_in, world):
    response = sign_in(world.a.caseworker).post(
        f"/console/people/{world.person.pk}/consent/new",
        consent_post(world, legal_basis="vital_interest", justification="x" * 40),
    )
    assert response.status_code == 403
    assert "ask your focal point" in error_of(response, "id_legal_basis")


def test_the_scope_problems_are_shown_next_to_their_fields(sign_in, world):
    client = sign_in(world.a.caseworker)
    url = f"/console/people/{world.person.pk}/consent/new"
    response = client.post(url, consent_post(world, purposes=[]))
    assert response.status_code == 400 and error_of(response, "id_purposes")
    response = client.post(url, consent_post(world, recipient_scope="pathway"))
    assert response.status_code == 400 and "by name" in error_of(response, "id_recipients")
    response = client.post(url, consent_post(world, expires_on=None))
    assert response.status_code == 400 and error_of(response, "id_expires_on")


def test_a_viewer_cannot_record_consent(sign_in, world):
    response = sign_in(world.a.viewer).post(
        f"/console/people/{world.person.pk}/consent/new", consent_post(world)
    )
    assert response.status_code == 403 and "Viewers may read" in page(response)
    assert ConsentRecord.objects.count() == 1


def test_a_rule_changed_in_the_service_shows_without_touching_the_view(sign_in, world, monkeypatch):
    def stricter(*, actor, person, **data):
        raise ServiceError(
            "Consent in this language needs an interpreter.", code="new_rule", field="language"
        )

    monkeypatch.setattr(consent_services, "consent_create", stricter)
    response = sign_in(world.a.caseworker).post(
        f"/console/people/{world.person.pk}/consent/new", consent_post(world)
    )
    assert response.status_code == 400
    assert error_of(response, "id_language") == "Consent in this language needs an interpreter."


def test_a_person_the_selector_no_longer_shows_is_not_found(sign_in, world, monkeypatch):
    from consent import selectors

    monkeypatch.setattr(selectors, "person_list_visible", lambda *, user: Person.objects.none())
    response = sign_in(world.a.caseworker).get(f"/console/people/{world.person.pk}")
    assert response.status_code == 404


def test_a_new_version_starts_from_the_old_one_and_replaces_it(sign_in, world):
    client = sign_in(world.a.caseworker)
    form = page(client.get(f"/console/consents/{world.consent.pk}/new-version"))
    assert 'value="gbv_case_management" checked' in form.replace('id="id_purposes_0" ', "")
    data = consent_post(world, data_categories=["given_name"])
    response = client.post(f"/console/consents/{world.consent.pk}/new-version", data)
    assert response.status_code == 302, page(response)
    new = ConsentRecord.objects.get(supersedes=world.consent)
    assert new.version == 2 and new.data_categories == ["given_name"]
    assert ConsentRecord.objects.get(pk=world.consent.pk).status == "superseded"
    assert "Superseded" in main_of(client.get(f"/console/people/{world.person.pk}"))


# the receipt -----------------------------------------------------------------------------


def test_the_receipt_is_in_the_consents_language_and_printable(sign_in, world):
    person = PersonFactory(organisation=world.a)
    record = consent_services.consent_create(
        actor=world.a.caseworker,
        person=person,
        collection_method="oral",
        language="ar",
        purposes=["gbv_case_management"],
        recipient_scope="pathway",
        data_categories=["given_name", "narrative"],
        expires_on=date.today() + timedelta(days=30),
    )
    response = sign_in(world.a.caseworker).get(f"/console/consents/{record.pk}/receipt")
    body = main_of(response)
    assert response.status_code == 200
    assert '<article class="receipt" lang="ar" dir="rtl">' in body
    assert "إيصال الموافقة" in body  # "Consent receipt", in Arabic
    assert "Back to the person" in body  # the officer's own words stay in the console's language
    assert "narrative" not in body and person.given_name not in body  # no name, no sensitive category
    assert "data-print hidden" in body and "onclick" not in page(response) and "<style" not in page(response)
    assert PersonReadLog.objects.filter(person=person, what="consent", api="console").exists()
