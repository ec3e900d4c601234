"""The person's door through the real URLs: code, session, status, withdrawal, requests."""

import pytest

from community.models import DoorEvent, PersonSession
from consent.models import ConsentRecord, DataSubjectRequest
from referrals.models import Referral
from tests.community.conftest import deliver_codes, sign_in, sms_lines

pytestmark = pytest.mark.django_db


def test_the_person_checks_a_referral_with_the_code_from_the_sms(client, settings, world):
    referral = world.send()
    sign_in(client, settings, referral)
    page = client.get("/check/status")
    assert page.status_code == 200
    body = page.content.decode()
    assert referral.reference in body
    assert "Sent to the service" in body
    assert world.service_b.name in body
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    kinds = set(DoorEvent.objects.filter(person=world.person).values_list("kind", "actor_kind"))
    assert {("code_sent", "person"), ("signed_in", "person"), ("status_viewed", "person")} <= kinds


def test_the_reference_is_read_in_any_spelling(client, settings, world):
    referral = world.send()
    spelled = referral.reference.replace("R-", "r ").lower()
    client.post("/check/", {"reference": spelled, "phone": "+254 700 111 222"})
    deliver_codes()
    assert len(sms_lines(settings)) == 1


def test_the_sms_carries_the_code_and_nothing_else(client, settings, world):
    referral = world.send()
    sign_in(client, settings, referral)
    (line,) = sms_lines(settings)
    assert line["to"] == "+254700111222"
    sentinels = [
        "Amal",
        referral.reference,
        world.service_b.name,
        world.a.name,
        world.b.name,
        world.a.acronym,
        world.b.acronym,
        "GBV",
        "mornings",
        "neighbour",
    ]
    assert [s for s in sentinels if s.lower() in line["text"].lower()] == []
    assert line["text"].startswith("Your code: ")


def test_a_wrong_phone_sends_nothing_and_the_code_page_looks_the_same(client, settings, world):
    referral = world.send()
    response = client.post("/check/", {"reference": referral.reference, "phone": "+254700999999"})
    assert response.status_code == 303
    deliver_codes()
    assert sms_lines(settings) == []
    assert client.post("/check/code", {"code": "000000"}).status_code == 400


def test_a_code_stops_working_after_the_allowed_attempts(client, settings, world):
    settings.PERSON_DOOR_CODE_ATTEMPTS = 3
    referral = world.send()
    client.post("/check/", {"reference": referral.reference, "phone": "+254700111222"})
    deliver_codes()
    import re

    code = re.search(r"\d{6}", sms_lines(settings)[-1]["text"]).group()
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _attempt in range(3):
        response = client.post("/check/code", {"code": wrong})
        assert response.status_code == 400
        assert "This code does not work" in response.content.decode()
    # the right code, too late: the challenge is spent
    assert client.post("/check/code", {"code": code}).status_code == 400
    assert not PersonSession.objects.exists()


def test_an_expired_code_opens_nothing(client, settings, world):
    referral = world.send()
    client.post("/check/", {"reference": referral.reference, "phone": "+254700111222"})
    deliver_codes()
    import re
    from datetime import timedelta

    from community.models import StatusCheckChallenge

    code = re.search(r"\d{6}", sms_lines(settings)[-1]["text"]).group()
    StatusCheckChallenge.objects.update(
        expires_at=StatusCheckChallenge.objects.get().created_at - timedelta(1)
    )
    assert client.post("/check/code", {"code": code}).status_code == 400


def test_requests_for_codes_are_limited_per_reference(client, settings, world):
    settings.PERSON_DOOR_CODES_PER_REFERENCE = 2
    referral = world.send()
    for _attempt in range(2):
        assert client.post("/check/", {"reference": referral.reference, "phone": "+1"}).status_code == 303
    limited = client.post("/check/", {"reference": referral.reference, "phone": "+254700111222"})
    assert limited.status_code == 429 and limited["Retry-After"]
    deliver_codes()
    assert sms_lines(settings) == []


def test_requests_for_codes_are_limited_per_phone_and_per_address(client, settings, world):
    settings.PERSON_DOOR_CODES_PER_PHONE = 2
    for index in range(2):
        client.post("/check/", {"reference": f"R-AAAAAAA{index}", "phone": "+254700111222"})
    assert client.post("/check/", {"reference": "R-BBBBBBBB", "phone": "+254700111222"}).status_code == 429
    settings.PERSON_DOOR_CODES_PER_PHONE = 100
    settings.PERSON_DOOR_CODES_PER_ADDRESS = 2
    assert client.post("/check/", {"reference": "R-CCCCCCCC", "phone": "+1 555"}).status_code == 429


def test_the_person_withdraws_their_consent_and_the_cascade_runs(client, settings, world):
    referral = world.send()
    sign_in(client, settings, referral)
    page = client.get(f"/check/consents/{world.consent.pk}")
    assert page.status_code == 200 and "Withdraw my consent" in page.content.decode()
    response = client.post(f"/check/consents/{world.consent.pk}/withdraw", {"reason": ""})
    assert response.status_code == 200
    world.consent.refresh_from_db()
    referral.refresh_from_db()
    assert world.consent.status == ConsentRecord.Status.WITHDRAWN
    assert world.consent.withdrawal_channel == "self_service" and world.consent.withdrawn_by is None
    assert referral.status == Referral.Status.WITHDRAWN and referral.payload is None
    event = DoorEvent.objects.get(kind="consent_withdrawn")
    assert (event.actor_kind, event.person_id, event.user_id) == ("person", world.person.pk, None)
    assert "Withdrawn" in client.get("/check/status").content.decode()


def test_the_person_asks_for_a_copy_of_their_data(client, settings, world):
    referral = world.send()
    sign_in(client, settings, referral)
    response = client.post("/check/requests/new", {"kind": "access", "details": ""})
    assert response.status_code == 200
    request = DataSubjectRequest.objects.get(person=world.person)
    assert (request.kind, request.channel, request.recorded_by, request.organisation) == (
        "access",
        "self_service",
        None,
        world.a,
    )
    assert request.due_on > request.received_on
    assert "A copy of your information" in client.get("/check/status").content.decode()


def test_a_request_without_a_kind_is_refused_next_to_the_field(client, settings, world):
    sign_in(client, settings, world.send())
    response = client.post("/check/requests/new", {"details": "x"})
    assert response.status_code == 400
    assert 'id="kind_error"' in response.content.decode()


def test_another_persons_consent_is_the_same_404_as_a_missing_one(client, settings, world):
    from tests.factories import ConsentRecordFactory, PersonFactory

    sign_in(client, settings, world.send())
    other = ConsentRecordFactory(person=PersonFactory(organisation=world.a), obtained_by=world.a.caseworker)
    import uuid

    theirs = client.get(f"/check/consents/{other.pk}")
    missing = client.get(f"/check/consents/{uuid.uuid4()}")
    assert theirs.status_code == missing.status_code == 404
    assert _without_tokens(theirs.content) == _without_tokens(missing.content)
    assert client.post(f"/check/consents/{other.pk}/withdraw").status_code == 404
    other.refresh_from_db()
    assert other.status == "active"


def _without_tokens(body: bytes) -> bytes:
    """The page less what differs on every response (the masked CSRF token) and the page's own
    address (the language form comes back to it)."""
    import re

    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)
    return re.sub(rb'name="next" value="[^"]+"', b"", body)


def test_without_a_session_the_pages_send_the_person_to_the_start(client):
    for url in ("/check/status", "/check/requests/new"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/check/")


def test_sign_out_ends_the_session(client, settings, world):
    sign_in(client, settings, world.send())
    client.post("/check/sign-out")
    assert client.get("/check/status").status_code == 302
    assert PersonSession.objects.get().ended_at is not None


def test_the_status_page_follows_the_selector(client, settings, world, monkeypatch):
    """No rule in the view: the page renders what the selector gives."""
    from community import selectors

    sign_in(client, settings, world.send())
    monkeypatch.setattr(selectors, "person_referrals", lambda *, session: [])
    assert "There is no referral to show." in client.get("/check/status").content.decode()


def test_the_status_page_in_arabic_is_right_to_left(client, settings, world):
    sign_in(client, settings, world.send())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    body = client.get("/check/status").content.decode()
    assert 'dir="rtl"' in body and 'lang="ar"' in body
