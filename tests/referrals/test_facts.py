"""The referral facts, as a pure function: one fact at a time, each side and state."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from referrals.facts import Viewer, referral_facts
from referrals.transitions import MANAGE, RESPOND, VIEW

SENDER, RECEIVER, OTHER = "org-sender", "org-receiver", "org-other"


@dataclass
class FakeReferral:
    status: str = "sent"
    from_organisation_id: str = SENDER
    to_organisation_id: str = RECEIVER
    holder_organisation_id: str = SENDER
    person_id: str = "person-1"
    consent_id: str = "consent-1"
    parent_id: str | None = "parent-1"
    shared_fields: list = field(default_factory=lambda: ["given_name", "phone", "narrative"])
    payload: dict | None = field(
        default_factory=lambda: {"given_name": "Amina", "phone": "+254 700", "narrative": "the note"}
    )
    payload_erased_at: datetime | None = None
    has_note: bool = True
    note_shared: bool = True
    reason_note: str = "the note"
    assigned_to_id: str | None = "user-joy"
    outcome: str = ""
    outcome_note: str = ""


def sender(role="caseworker"):
    return Viewer(user_id="u1", organisation_id=SENDER, role=role, permissions=frozenset({VIEW, MANAGE}))


def receiver(role="caseworker"):
    return Viewer(user_id="u2", organisation_id=RECEIVER, role=role, permissions=frozenset({VIEW, RESPOND}))


def test_the_sending_side_holding_the_person_sees_person_consent_parent_and_its_note():
    facts = referral_facts(FakeReferral(), sender())
    assert facts.side == "sending" and facts.holds_person
    assert (facts.person_id, facts.consent_id, facts.parent_id) == ("person-1", "consent-1", "parent-1")
    assert facts.reason_note == "the note"
    assert facts.payload == {"given_name": "Amina", "phone": "+254 700", "narrative": "the note"}


def test_the_assignee_is_for_the_receiving_side_only():
    assert referral_facts(FakeReferral(), sender()).assigned_to_id is None
    assert referral_facts(FakeReferral(), receiver()).assigned_to_id == "user-joy"


def test_the_receiving_side_reads_the_note_only_when_it_travelled():
    assert referral_facts(FakeReferral(note_shared=True), receiver()).reason_note == "the note"
    assert referral_facts(FakeReferral(note_shared=False), receiver()).reason_note is None
    assert referral_facts(FakeReferral(note_shared=False), sender()).reason_note == "the note"


def test_the_receiving_side_never_sees_person_consent_or_parent():
    facts = referral_facts(FakeReferral(), receiver())
    assert (facts.person_id, facts.consent_id, facts.parent_id) == (None, None, None)
    assert not facts.holds_person


def test_an_onward_sender_that_does_not_hold_the_person_sees_no_person_id():
    facts = referral_facts(FakeReferral(holder_organisation_id=OTHER), sender())
    assert facts.side == "sending" and not facts.holds_person and facts.person_id is None


@pytest.mark.parametrize("viewer", [sender(), receiver()], ids=["sending", "receiving"])
def test_after_erasure_payload_and_notes_are_gone_names_and_outcome_stay(viewer):
    referral = FakeReferral(
        status="completed",
        payload=None,
        payload_erased_at=datetime(2026, 1, 1, tzinfo=UTC),
        outcome="service_provided",
        outcome_note="",
    )
    facts = referral_facts(referral, viewer)
    assert facts.payload is None and facts.payload_erased
    assert facts.reason_note is None and facts.outcome_note is None
    assert facts.shared_fields == ("given_name", "phone", "narrative")
    assert not facts.tombstone


def test_a_withdrawn_referral_is_a_tombstone_for_the_receiving_side():
    referral = FakeReferral(status="withdrawn", outcome_note="x")
    facts = referral_facts(referral, receiver("focal_point"))
    assert facts.tombstone
    assert facts.payload is None and facts.shared_fields == () and facts.reason_note is None
    assert facts.outcome_note is None and facts.assigned_to_id is None and not facts.event_notes
    assert facts.allowed_actions == frozenset()


def test_the_sender_keeps_its_whole_record_after_withdrawing():
    facts = referral_facts(FakeReferral(status="withdrawn"), sender())
    assert not facts.tombstone and facts.payload is not None and facts.reason_note == "the note"


def test_allowed_actions_come_from_the_table():
    assert referral_facts(FakeReferral(), receiver("focal_point")).allowed_actions == {
        "acknowledge",
        "accept",
        "decline",
        "assign",
    }
    assert referral_facts(FakeReferral(), sender()).allowed_actions == {"withdraw"}
