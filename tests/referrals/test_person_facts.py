"""The person's side of the referral facts: status in plain words, never notes or others' data."""

from dataclasses import fields

import pytest

from referrals.facts import PERSON, PersonFacts, person_facts
from tests.referrals.test_facts import FakeReferral


def person_referral(**changes):
    referral = FakeReferral(**changes)
    referral.reference = "R-ABCDEFGH"
    referral.to_service_id = "service-b"
    referral.created_at = "2026-01-01"
    referral.due_by = "2026-01-15"
    referral.updated_at = "2026-01-02"
    return referral


@pytest.mark.parametrize(
    ("status", "stage", "next_step"),
    [
        ("sent", "sent", "wait_for_contact"),
        ("acknowledged", "being_looked_at", "wait_for_contact"),
        ("accepted", "accepted", "service_will_contact"),
        ("declined", "not_accepted", "alternatives"),
        ("completed", "finished", "nothing_to_do"),
        ("closed", "finished", "nothing_to_do"),
        ("withdrawn", "withdrawn", "nothing_shared"),
    ],
)
def test_each_status_reads_as_a_stage_with_its_next_step(status, stage, next_step):
    facts = person_facts(person_referral(status=status), "person-1")
    assert (facts.side, facts.stage, facts.next_step) == (PERSON, stage, next_step)
    assert facts.answer_due_by == ("2026-01-15" if status in ("sent", "acknowledged") else None)


def test_another_persons_referral_gives_no_facts():
    assert person_facts(person_referral(), "person-2") is None
    assert person_facts(person_referral(), None) is None


def test_the_person_facts_hold_no_note_payload_assignee_or_grant():
    names = {f.name for f in fields(PersonFacts)}
    assert not names & {
        "payload",
        "reason_note",
        "outcome_note",
        "assigned_to_id",
        "allowed_actions",
        "consent_id",
    }
    facts = person_facts(person_referral(), "person-1")
    values = " ".join(str(getattr(facts, name)) for name in names)
    for secret in ("Amina", "+254 700", "the note", "user-joy", "consent-1", "org-sender"):
        assert secret not in values


def test_alternatives_are_offered_while_the_referral_matters():
    assert person_facts(person_referral(status="declined"), "person-1").show_alternatives
    assert person_facts(person_referral(status="sent"), "person-1").show_alternatives
    assert not person_facts(person_referral(status="withdrawn"), "person-1").show_alternatives
    assert not person_facts(person_referral(status="completed"), "person-1").show_alternatives
