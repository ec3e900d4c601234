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
