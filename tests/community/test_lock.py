"""Staff lock a reference (a lost phone): service, REST, GraphQL and the console button."""

import json

import pytest
from graphql_relay import to_global_id

from community import services
from community.models import DoorEvent, PersonSession, StatusCheckLock
from tests.community.conftest import deliver_codes, sign_in, sms_lines
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def test_a_locked_reference_gets_no_code_and_the_same_answer(client, settings, world):
    referral = world.send()
    services.status_check_lock(actor=world.a.caseworker, referral=referral)
    response = client.post("/check/", {"reference": referral.reference, "phone": "+254700111222"})
    assert response.status_code == 303 and response["Location"] == "/check/code"
    deliver_codes()
    assert sms_lines(settings) == []


def test_locking_ends_the_open_sessions_and_unlocking_lets_the_person_back(client, settings, world):
    referral = world.send()
    sign_in(client, settings, referral)
    services.status_check_lock(actor=world.a.focal_point, referral=referral)
    assert client.get("/check/status").status_code == 302
    assert PersonSession.objects.get().ended_at is not None
    services.status_check_unlock(actor=world.a.focal_point, referral=referral)
    sign_in(client, settings, referral)
    assert client.get("/check/status").status_code == 200
    kinds = list(DoorEvent.objects.filter(actor_kind="staff").values_list("kind", "user_id"))
    assert ("locked", world.a.focal_point.pk) in kinds and ("unlocked", world.a.focal_point.pk) in kinds


def test_only_the_organisation_holding_the_person_may_lock(api, world):
    referral = world.send()
    for outsider in (world.b.focal_point, world.c.caseworker):
        response = api(outsider).post(f"/api/v1/referrals/{referral.pk}/status-check-lock")
        missing = api(outsider).post(
            "/api/v1/referrals/00000000-0000-0000-0000-000000000000/status-check-lock"
        )
        assert response.status_code == missing.status_code == 404
        assert response.content == missing.content
    assert api(world.a.viewer).post(f"/api/v1/referrals/{referral.pk}/status-check-lock").status_code == 403
    assert not StatusCheckLock.objects.exists()


def test_rest_locks_then_refuses_a_second_lock_then_unlocks(api, world):
    referral = world.send()
    client = api(world.a.caseworker)
    locked = client.post(f"/api/v1/referrals/{referral.pk}/status-check-lock")
    assert locked.status_code == 201 and locked.json() == {"reference": referral.reference, "locked": True}
    again = client.post(f"/api/v1/referrals/{referral.pk}/status-check-lock")
    assert again.status_code == 409 and again.json()["error"]["code"] == "status_check_already_locked"
    assert client.post(f"/api/v1/referrals/{referral.pk}/status-check-unlock").json()["locked"] is False
    again = client.post(f"/api/v1/referrals/{referral.pk}/status-check-unlock")
    assert again.status_code == 409 and again.json()["error"]["code"] == "status_check_not_locked"


def test_graphql_locks_status_checks(client, world):
    referral = world.send()
    query = (
        "mutation($id: ID!) { lockStatusCheck(id: $id, locked: true) { reference locked errors { code } } }"
    )
    response = client.post(
        "/graphql",
        data=json.dumps({"query": query, "variables": {"id": to_global_id("Referral", str(referral.pk))}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token_for(world.a.caseworker)}",
    )
    payload = response.json()["data"]["lockStatusCheck"]
    assert payload == {"reference": referral.reference, "locked": True, "errors": []}
    assert StatusCheckLock.objects.filter(referral=referral, unlocked_at__isnull=True).exists()
