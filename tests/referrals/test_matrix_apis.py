"""The hand-written matrix (expected_matrix.EXPECTED) against what the APIs offer and what the
services do: for each state, side and role, REST's ``allowed_actions`` and GraphQL's ``viewerCan``
name exactly the matrix's actions, and attempting each action through the service layer succeeds
exactly when the matrix allows it (every attempt rolled back, so each starts from the same state).
"""

import pytest
from django.db import transaction

from common.errors import Conflict, NotFound, PermissionDenied, ServiceError
from consent.services import consent_new_version
from referrals import services
from referrals.models import Referral
from tests.factories import ServiceFactory
from tests.referrals.api_helpers import bring_to, gid, ok
from tests.referrals.expected_matrix import ACTIONS, ROLES, SIDES, STATE_CHANGES, STATES, expected
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

BASE = "/api/v1/referrals"
VIEWER_CAN = """
query ($id: ID!) {
  referral(id: $id) {
    status viewerCan { acknowledge accept decline complete referOnward assign withdraw close }
  }
}
"""
GRAPHQL_NAME = {"refer_onward": "referOnward"}
ARGUMENTS = {
    "decline": {"reason_code": "no_capacity"},
    "complete": {"outcome": "service_provided"},
    "withdraw": {"reason_code": "person_request"},
}
ORGANISATION = {"sending": "a", "receiving": "b"}
RECEIVING_ACTIONS = {"acknowledge", "accept", "decline", "complete", "assign", "refer_onward"}


def matrix_world():
    """A and B as usual; the consent names C too, so that B can refer onward to C's service."""
    world = build_world()
    world.consent = consent_new_version(
        actor=world.a.caseworker, previous=world.consent, recipients=[world.b.id, world.c.id]
    )
    world.onward = ServiceFactory(
        organisation=world.c,
        category=world.service_b.category,
        required_fields=["given_name"],
        optional_fields=[],
    )
    return world


def act(world, referral: Referral, user, action: str):
    """Take ``action`` through the service, as ``user``; check what it did, then roll it back.
    Returns the refusal (a ServiceError) or None."""
    try:
        with transaction.atomic():
            try:
                if action == "assign":
                    result = services.referral_assign(
                        actor=user, referral=referral, caseworker=world.b.caseworker2, restrict=False
                    )
                    assert result.assigned_to_id == world.b.caseworker2.pk
                    assert result.status == referral.status
                elif action == "refer_onward":
                    child = services.referral_refer_onward(
                        actor=user,
                        referral=referral,
                        to_service=world.onward,
                        idempotency_key="matrix-onward",
                    )
                    assert child.parent_id == referral.pk and child.status == "sent"
                    assert Referral.objects.get(pk=referral.pk).status == referral.status
                else:
                    result = services.referral_transition(
                        actor=user, referral=referral, action=action, **ARGUMENTS.get(action, {})
                    )
                    _sources, target, _side, event = STATE_CHANGES[action]
                    assert result.status == target
                    assert result.events.filter(kind=event, actor=user).count() == 1
            finally:
                transaction.set_rollback(True)
    except ServiceError as refusal:
        return refusal
    return None


def expected_refusal(state: str, role: str, side: str, action: str) -> tuple[type, int]:
    """docs/referrals.md "Errors": who may not (403) before when not (409)."""
    action_side = "receiving" if action in RECEIVING_ACTIONS else "sending"
    if role == "viewer" or side != action_side or (action == "assign" and role != "focal_point"):
        return PermissionDenied, 403
    return Conflict, 409


@pytest.mark.parametrize("state", STATES)
def test_matrix_against_rest_graphql_and_the_services(api, gql, state):
    world = matrix_world()
    referral = bring_to(world, state)
    checked = 0
    for side in SIDES:
        for role in ROLES:
            user = getattr(getattr(world, ORGANISATION[side]), role)
            want = expected(state, role, side)
            where = (state, side, role)

            response = api(user).get(f"{BASE}/{referral.id}")
            assert response.status_code == 200, (where, response.content)
            assert response.json()["side"] == side and response.json()["status"] == state
            assert set(response.json()["allowed_actions"]) == want, where

            seen = ok(gql(user, VIEWER_CAN, {"id": gid("Referral", referral)})[1])["referral"]
            assert seen is not None, where
            assert {action for action in ACTIONS if seen["viewerCan"][GRAPHQL_NAME.get(action, action)]} == (
                want
            ), where

            for action in ACTIONS:
                refusal = act(world, referral, user, action)
                if action in want:
                    assert refusal is None, (where, action, refusal and refusal.code)
                else:
                    kind, status = expected_refusal(state, role, side, action)
                    assert isinstance(refusal, kind), (where, action, refusal)
                    assert refusal.status == status, (where, action, refusal.code)
                checked += 1
    assert checked == len(SIDES) * len(ROLES) * len(ACTIONS)
    referral.refresh_from_db()
    assert referral.status == state  # every attempt was rolled back


@pytest.mark.parametrize("state", ["sent", "accepted", "completed", "withdrawn"])
def test_an_organisation_that_is_no_party_may_do_nothing_and_sees_nothing(api, gql, state):
    world = matrix_world()
    referral = bring_to(world, state)
    for role in ROLES:
        user = getattr(world.c, role)
        assert api(user).get(f"{BASE}/{referral.id}").status_code == 404
        assert ok(gql(user, VIEWER_CAN, {"id": gid("Referral", referral)})[1]) == {"referral": None}
        for action in ACTIONS:
            refusal = act(world, referral, user, action)
            assert isinstance(refusal, NotFound) and refusal.code == "referral_not_found", (role, action)


def test_the_matrix_names_every_action_the_apis_know():
    from referrals import transitions

    assert set(ACTIONS) == set(transitions.ACTIONS)
    assert set(STATES) == set(transitions.STATES)
