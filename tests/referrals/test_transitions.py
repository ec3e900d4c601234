"""The pure transition table against the matrix written out by hand from the docs."""

import itertools

import pytest

from referrals import transitions as t
from tests.referrals.expected_matrix import ACTIONS, ROLES, SIDES, STATES, expected

SENDER, RECEIVER, OTHER = "org-sender", "org-receiver", "org-other"
GRANTS = {"sending": frozenset({t.VIEW, t.MANAGE}), "receiving": frozenset({t.VIEW, t.RESPOND})}


def _state(status, *, erased=False):
    return t.ReferralState(
        status=status, from_organisation_id=SENDER, to_organisation_id=RECEIVER, payload_erased=erased
    )


def _caller(role, side, permissions=None):
    organisation = SENDER if side == "sending" else RECEIVER
    return t.Caller(
        organisation_id=organisation,
        role=role,
        permissions=GRANTS[side] if permissions is None else permissions,
    )


def test_every_action_of_the_docs_is_in_the_table_and_nothing_else():
    assert set(t.ACTIONS) == set(ACTIONS)
    assert set(t.STATES) == set(STATES)


@pytest.mark.parametrize(("state", "role", "side"), list(itertools.product(STATES, ROLES, SIDES)))
def test_allowed_actions_match_the_hand_written_matrix(state, role, side):
    assert t.allowed_actions(_state(state), _caller(role, side)) == expected(state, role, side)


@pytest.mark.parametrize("state", STATES)
def test_another_organisation_may_do_nothing(state):
    for role in ROLES:
        caller = t.Caller(
            organisation_id=OTHER, role=role, permissions=frozenset({t.VIEW, t.RESPOND, t.MANAGE})
        )
        assert t.allowed_actions(_state(state), caller) == frozenset()


def test_no_membership_is_refused_before_anything_else():
    refusal = t.refusal("accept", _state("sent"), t.Caller(organisation_id=None, role=None))
    assert refusal.code == "no_organisation"


def test_a_receiving_member_without_the_grant_may_not_respond():
    # the receiving organisation, but the grant went (withdrawn; restricted away)
    caller = _caller("caseworker", "receiving", permissions=frozenset({t.VIEW}))
    assert t.allowed_actions(_state("sent"), caller) == frozenset()
    assert t.refusal("accept", _state("sent"), caller).code == "wrong_side"


def test_refer_onward_needs_the_shared_data():
    caller = _caller("caseworker", "receiving")
    refusal = t.refusal("refer_onward", _state("accepted", erased=True), caller)
    assert refusal.code == "payload_erased" and refusal.kind == "conflict"
    assert "refer_onward" not in t.allowed_actions(_state("accepted", erased=True), caller)
    assert "complete" in t.allowed_actions(_state("accepted", erased=True), caller)


@pytest.mark.parametrize(
    ("action", "state", "role", "side", "code", "kind"),
    [
        ("accept", "sent", "viewer", "receiving", "role_cannot_act", "permission"),
        ("withdraw", "sent", "caseworker", "receiving", "wrong_side", "permission"),
        ("accept", "sent", "focal_point", "sending", "wrong_side", "permission"),
        ("assign", "sent", "caseworker", "receiving", "focal_point_required", "permission"),
        ("assign", "sent", "focal_point", "sending", "wrong_side", "permission"),
        ("accept", "closed", "caseworker", "receiving", "invalid_transition", "conflict"),
        ("assign", "declined", "focal_point", "receiving", "invalid_transition", "conflict"),
        ("refer_onward", "sent", "caseworker", "receiving", "invalid_transition", "conflict"),
        ("close", "accepted", "caseworker", "sending", "invalid_transition", "conflict"),
    ],
)
def test_the_first_reason_is_the_same_everywhere(action, state, role, side, code, kind):
    refusal = t.refusal(action, _state(state), _caller(role, side))
    assert (refusal.code, refusal.kind) == (code, kind)


def test_wrong_state_is_worded_with_the_states_it_may_start_from():
    refusal = t.refusal("accept", _state("closed"), _caller("caseworker", "receiving"))
    assert refusal.message == "Cannot accept a referral that is closed (allowed from: sent, acknowledged)."


def test_a_referral_between_two_services_of_one_organisation_is_worked_from_both_sides():
    state = t.ReferralState(status="sent", from_organisation_id=SENDER, to_organisation_id=SENDER)
    caller = t.Caller(
        organisation_id=SENDER, role="caseworker", permissions=frozenset({t.VIEW, t.RESPOND, t.MANAGE})
    )
    assert t.allowed_actions(state, caller) == {"acknowledge", "accept", "decline", "withdraw"}


def test_a_retry_check_stops_before_the_state():
    # an idempotent retry of refer onward is answered even if the parent moved on since
    caller = _caller("caseworker", "receiving")
    assert t.refusal("refer_onward", _state("completed"), caller, state=False) is None
    assert t.refusal("refer_onward", _state("completed"), caller).code == "invalid_transition"


def test_withdrawal_leaves_the_receiving_side_a_read_only_record():
    assert t.REVOKE_RECEIVING_RESPOND in t.TABLE["withdraw"].grants
    assert t.REVOKE_RECEIVING_RESPOND in t.CONSENT_WITHDRAWAL.grants
