"""What a caller may know about one referral, decided once.

Pure: takes a referral (any object with the attributes below, already loaded — nothing is queried)
and the caller, and returns :class:`ReferralFacts`. The REST serializer, the GraphQL type, the
console and the exports render these facts; none of them decides a fact itself.

The referral needs: ``status``, ``from_organisation_id``, ``to_organisation_id``,
``holder_organisation_id`` (the organisation holding the person), ``person_id``, ``consent_id``,
``parent_id``, ``shared_fields``, ``payload``, ``payload_erased_at``, ``has_note``, ``note_shared``,
``reason_note``, ``assigned_to_id``, ``outcome``, ``outcome_note``.

The rules:
- The side comes from the caller's organisation (both sides for a referral between two services
  of one organisation; it then sees what the sending side sees).
- The holding organisation alone sees the person and consent ids; the sending side alone sees the
  parent of an onward referral; the receiving side alone sees the assignee.
- The referrer's note is the narrative: the receiving side reads it only when it travelled
  (``note_shared``).
- After erasure (consent withdrawn, person erased) nobody reads the payload, the note or the
  outcome note; the shared field names, the outcome code and the events stay.
- A withdrawn referral is, for the receiving side, a tombstone: reference, service, status,
  dates and events without notes — no payload, no field names, no notes, no assignee.
- The person (``person_facts``, the status page): the stage of their own referral in plain words,
  its dates, which service (for its public contact details) and the next step — never the
  payload, a note, an outcome note, the assignee, the grants or another referral.
"""

from __future__ import annotations

from dataclasses import dataclass

from referrals import transitions as t


@dataclass(frozen=True)
class Viewer:
    """The caller: their organisation and role (None without an active membership), their user id,
    and the object permissions their grants give them on this referral."""

    user_id: object
    organisation_id: object | None
    role: str | None
    permissions: frozenset[str] = frozenset()

    def as_caller(self) -> t.Caller:
        return t.Caller(organisation_id=self.organisation_id, role=self.role, permissions=self.permissions)


@dataclass(frozen=True)
class ReferralFacts:
    side: str  # "sending" or "receiving"
    sides: tuple[str, ...]
    holds_person: bool
    tombstone: bool
    payload_erased: bool
    shared_fields: tuple[str, ...]
    payload: dict | None
    has_note: bool
    note_shared: bool
    reason_note: str | None
    outcome_note: str | None
    event_notes: bool  # whether event notes may be shown
    assigned_to_id: object | None
    person_id: object | None
    consent_id: object | None
    parent_id: object | None
    allowed_actions: frozenset[str]

    def can(self, action: str) -> bool:
        return action in self.allowed_actions


def state_of(referral) -> t.ReferralState:
    return t.ReferralState(
        status=referral.status,
        from_organisation_id=referral.from_organisation_id,
        to_organisation_id=referral.to_organisation_id,
        payload_erased=referral.payload_erased_at is not None,
    )


def referral_facts(referral, viewer: Viewer) -> ReferralFacts:
    state = state_of(referral)
    sides = t.sides_of(state, viewer.organisation_id)
    sending = t.SENDING in sides
    side = t.SENDING if sending else t.RECEIVING
    tombstone = not sending and referral.status == t.WITHDRAWN
    erased = referral.payload_erased_at is not None
    hidden = tombstone or erased
    holds_person = (
        viewer.organisation_id is not None and referral.holder_organisation_id == viewer.organisation_id
    )
    note_shared = bool(referral.note_shared) and not tombstone
    if hidden:
        reason_note = None
    elif sending or note_shared:
        reason_note = referral.reason_note or None
    else:
        reason_note = None
    return ReferralFacts(
        side=side,
        sides=sides,
        holds_person=holds_person,
        tombstone=tombstone,
        payload_erased=erased,
        shared_fields=() if tombstone else tuple(referral.shared_fields),
        payload=None if hidden or not referral.payload else dict(referral.payload),
        has_note=bool(referral.has_note) and not tombstone,
        note_shared=note_shared,
        reason_note=reason_note,
        outcome_note=None if hidden else (referral.outcome_note or None),
        event_notes=not tombstone,
        assigned_to_id=referral.assigned_to_id if t.RECEIVING in sides and not tombstone else None,
        person_id=referral.person_id if holds_person else None,
        consent_id=referral.consent_id if holds_person else None,
        parent_id=referral.parent_id if sending else None,
        allowed_actions=t.allowed_actions(state, viewer.as_caller()),
    )


# The person's side ---------------------------------------------------------------------------

PERSON = "person"

# What the person reads, in plain words: one stage per status
STAGE_SENT, STAGE_LOOKED_AT, STAGE_ACCEPTED = "sent", "being_looked_at", "accepted"
STAGE_NOT_ACCEPTED, STAGE_FINISHED, STAGE_WITHDRAWN = "not_accepted", "finished", "withdrawn"
PERSON_STAGES = {
    t.SENT: STAGE_SENT,
    t.ACKNOWLEDGED: STAGE_LOOKED_AT,
    t.ACCEPTED: STAGE_ACCEPTED,
    t.DECLINED: STAGE_NOT_ACCEPTED,
    t.COMPLETED: STAGE_FINISHED,
    t.CLOSED: STAGE_FINISHED,
    t.WITHDRAWN: STAGE_WITHDRAWN,
}
# What the person may do next, per stage
NEXT_WAIT, NEXT_SERVICE_CONTACTS, NEXT_ALTERNATIVES = (
    "wait_for_contact",
    "service_will_contact",
    "alternatives",
)
NEXT_NOTHING, NEXT_NOTHING_SHARED = "nothing_to_do", "nothing_shared"
PERSON_NEXT_STEPS = {
    STAGE_SENT: NEXT_WAIT,
    STAGE_LOOKED_AT: NEXT_WAIT,
    STAGE_ACCEPTED: NEXT_SERVICE_CONTACTS,
    STAGE_NOT_ACCEPTED: NEXT_ALTERNATIVES,
    STAGE_FINISHED: NEXT_NOTHING,
    STAGE_WITHDRAWN: NEXT_NOTHING_SHARED,
}


@dataclass(frozen=True)
class PersonFacts:
    """What the person may know about one of their own referrals."""

    side: str  # always PERSON
    reference: str
    stage: str
    next_step: str
    service_id: object  # the receiving service, for its public contact details in the directory
    sent_at: object
    answer_due_by: object | None  # while the service has not answered
    updated_at: object
    show_alternatives: bool  # "if you cannot reach this service": other services of the same kind
    open: bool


def person_facts(referral, person_id) -> PersonFacts | None:
    """The person's facts for ``referral``, or None when it is not theirs (nobody else's referral
    is ever shown to them). Needs ``reference``, ``person_id``, ``status``, ``to_service_id``,
    ``created_at``, ``due_by``, ``updated_at``; reads nothing else of the referral."""
    if person_id is None or str(referral.person_id) != str(person_id):
        return None
    stage = PERSON_STAGES[referral.status]
    awaiting = referral.status in (t.SENT, t.ACKNOWLEDGED)
    return PersonFacts(
        side=PERSON,
        reference=referral.reference,
        stage=stage,
        next_step=PERSON_NEXT_STEPS[stage],
        service_id=referral.to_service_id,
        sent_at=referral.created_at,
        answer_due_by=referral.due_by if awaiting else None,
        updated_at=referral.updated_at,
        show_alternatives=stage not in (STAGE_WITHDRAWN, STAGE_FINISHED),
        open=referral.status in (t.SENT, t.ACKNOWLEDGED, t.ACCEPTED),
    )
