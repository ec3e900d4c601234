"""The referral state machine as data: every action, who may take it, from which states, and what
it sets off. Pure: plain strings and small records in, plain answers out; no models, no queries.

The service (``referrals.services``) asks :func:`refusal` before it changes anything and carries out
the side effects named here; GraphQL's ``viewerCan``, REST's ``allowed_actions`` and the console
ask :func:`allowed_actions`. A rule about who may do what to a referral is written here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# States ------------------------------------------------------------------------------------
SENT = "sent"
ACKNOWLEDGED = "acknowledged"
ACCEPTED = "accepted"
DECLINED = "declined"
COMPLETED = "completed"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
STATES = (SENT, ACKNOWLEDGED, ACCEPTED, DECLINED, COMPLETED, CLOSED, WITHDRAWN)
OPEN = (SENT, ACKNOWLEDGED, ACCEPTED)
AWAITING_ANSWER = (SENT, ACKNOWLEDGED)

# Sides, roles and the object permissions the grants carry -------------------------------
SENDING, RECEIVING = "sending", "receiving"
FOCAL_POINT, CASEWORKER, VIEWER = "focal_point", "caseworker", "viewer"
ACTING_ROLES = (FOCAL_POINT, CASEWORKER)
VIEW, RESPOND, MANAGE = "view_referral", "respond_referral", "manage_referral"

# Who is told (the service turns these into users) -----------------------------------------
RECEIVING_FOCAL_POINT = "receiving_focal_point"
ASSIGNEE = "assignee"
REFERRER = "referrer"
SENDING_FOCAL_POINT = "sending_focal_point"
# the operation's coordinator (``Operation.coordinator``), told as a member of their own organisation
COORDINATOR = "operation_coordinator"
# the referrers of the referrals this one was referred onward from (parent, grandparent, …): each is
# told on their own referral, with ONWARD_NOTICE, and never learns the onward referral itself
EARLIER_REFERRERS = "earlier_referrers"

# What they are told: the kind of notice (``referrals.models.Notification.Kind``); the notice
# carries the transition's reason or outcome code, never its note.
NEW_REFERRAL_NOTICE = "new_referral"
ONWARD_NOTICE = "onward_outcome_recorded"

# Grant changes (the service carries them out) --------------------------------------------
REVOKE_RECEIVING_RESPOND = "revoke_receiving_respond"  # the receiving side keeps a read-only tombstone
NARROW_TO_ASSIGNEE = "narrow_to_assignee"  # with restrict: only the assignee and the focal point
INHERIT_CONFINEMENT = "inherit_confinement"  # onward: the child is seen by those who saw the parent

DECLINE_REASONS = (
    "not_eligible",
    "no_capacity",
    "outside_area",
    "duplicate",
    "person_declined_service",
    "other",
)
WITHDRAW_REASONS = ("person_request", "referred_elsewhere", "no_longer_needed", "sent_in_error", "other")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the referral keeps its state (assign, refer onward)
    side: str
    permission: str
    roles: tuple[str, ...] = ACTING_ROLES
    needs_payload: bool = False  # the shared data must still be there (it is copied on)
    reasons: tuple[str, ...] = ()  # a reason code is required, one of these
    outcome_required: bool = False
    event: str = ""
    notify: tuple[str, ...] = ()
    notice: str = ""  # the kind of notice ``notify`` are sent
    grants: tuple[str, ...] = ()
    refused_state_message: str = ""  # how a wrong state is worded, {status} filled in
    refused_role_message: str = ""
    starts_outcome_clock: bool = False  # the outcome is due within the service's ``outcome_due_days``
    level: int = 0  # an escalation: the level it climbs to

    def state_message(self, status: str) -> str:
        if self.refused_state_message:
            return self.refused_state_message.format(status=status)
        return (
            f"Cannot {self.action.replace('_', ' ')} a referral that is {status} "
            f"(allowed from: {', '.join(self.sources)})."
        )


TABLE: dict[str, Transition] = {
    t.action: t
    for t in (
        # closed loop: the referrer learns every answer, pushed to them
        Transition(
            "acknowledge",
            (SENT,),
            ACKNOWLEDGED,
            RECEIVING,
            RESPOND,
            event="acknowledged",
            notify=(REFERRER,),
            notice="referral_acknowledged",
        ),
        Transition(
            "accept",
            (SENT, ACKNOWLEDGED),
            ACCEPTED,
            RECEIVING,
            RESPOND,
            event="accepted",
            notify=(REFERRER,),
            notice="referral_accepted",
            starts_outcome_clock=True,
        ),
        Transition(
            "decline",
            (SENT, ACKNOWLEDGED),
            DECLINED,
            RECEIVING,
            RESPOND,
            reasons=DECLINE_REASONS,
            event="declined",
            notify=(REFERRER,),
            notice="referral_declined",
        ),
        Transition(
            "complete",
            (ACCEPTED,),
            COMPLETED,
            RECEIVING,
            RESPOND,
            outcome_required=True,
            event="completed",
            # closed loop: the referrer learns the outcome, and so do those who referred before them
            notify=(REFERRER, EARLIER_REFERRERS),
            notice="outcome_recorded",
        ),
        Transition("close", (COMPLETED,), CLOSED, SENDING, MANAGE, event="closed"),
        Transition(
            "withdraw",
            OPEN,
            WITHDRAWN,
            SENDING,
            MANAGE,
            reasons=WITHDRAW_REASONS,
            event="withdrawn",
            notify=(RECEIVING_FOCAL_POINT, ASSIGNEE),
            notice="referral_withdrawn",
            grants=(REVOKE_RECEIVING_RESPOND,),
        ),
        Transition(
            "assign",
            OPEN,
            None,
            RECEIVING,
            RESPOND,
            roles=(FOCAL_POINT,),
            event="assigned",
            grants=(NARROW_TO_ASSIGNEE,),
            refused_state_message="A {status} referral cannot be assigned.",
            refused_role_message="Only the receiving focal point assigns referrals.",
        ),
        Transition(
            "refer_onward",
            (ACCEPTED,),
            None,
            RECEIVING,
            RESPOND,
            needs_payload=True,
            event="referred_onward",
            grants=(INHERIT_CONFINEMENT,),
            refused_state_message="Only an accepted referral can be referred onward.",
        ),
    )
}
ACTIONS = tuple(TABLE)
# Actions that move the referral to another state (the rest leave it where it is).
STATE_CHANGES = {action: t for action, t in TABLE.items() if t.target is not None}

# What the system does to a referral without a caller's action ----------------------------
# Consent withdrawn (or the person erased): an open referral is withdrawn; whatever its state,
# its shared data and free-text notes are erased; the outcome code and the events stay.
CONSENT_WITHDRAWAL = Transition(
    "consent_withdrawn",
    OPEN,
    WITHDRAWN,
    SENDING,
    MANAGE,
    event="consent_withdrawn",
    # those who pulled the data are told the referral is withdrawn and their copy must be deleted
    notify=(RECEIVING_FOCAL_POINT, ASSIGNEE),
    notice="consent_withdrawn",
    grants=(REVOKE_RECEIVING_RESPOND,),
)
# Escalation climbs, on two clocks: the answer (``due_by``, for a sent or acknowledged referral) and
# the outcome (``outcome_due_by``, for an accepted one; accepting starts it at level 0). Level 1 is
# due at the deadline and tells the receiving focal point; level 2 is due a second period after
# level 1 (``ESCALATION_LEVEL_2_HOURS``, by urgency) and tells the sending focal point and the
# operation's coordinator. The action is the event's reason code; a level is reached once.
NO_ANSWER, NO_OUTCOME = "no_answer", "no_outcome"
ESCALATIONS = tuple(
    Transition(
        f"{clock}_level_{level}",
        AWAITING_ANSWER if clock == NO_ANSWER else (ACCEPTED,),
        None,
        RECEIVING,
        RESPOND,
        event="escalated",
        notify=(RECEIVING_FOCAL_POINT,) if level == 1 else (SENDING_FOCAL_POINT, COORDINATOR),
        notice="referral_escalated" if clock == NO_ANSWER else "outcome_overdue",
        level=level,
    )
    for clock in (NO_ANSWER, NO_OUTCOME)
    for level in (1, 2)
)
ESCALATION_REASONS = tuple(t.action for t in ESCALATIONS)


def next_escalation(status: str, level: int) -> Transition | None:
    """The escalation a referral in ``status`` at ``level`` climbs to next, or None (it is
    answered and done, or at the top)."""
    return next((t for t in ESCALATIONS if status in t.sources and t.level == level + 1), None)


# The question every surface asks -----------------------------------------------------------


@dataclass(frozen=True)
class ReferralState:
    """The referral as the table needs to see it."""

    status: str
    from_organisation_id: object
    to_organisation_id: object
    payload_erased: bool = False


@dataclass(frozen=True)
class Caller:
    """Who asks: their active membership (None when they have none) and the object permissions
    their grants give them on this referral."""

    organisation_id: object | None
    role: str | None
    permissions: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    kind: str  # "permission" (403) or "conflict" (409)


def sides_of(referral: ReferralState, organisation_id) -> tuple[str, ...]:
    """The sides an organisation is on: both for a referral between two of its own services."""
    if organisation_id is None:
        return ()
    sides = []
    if organisation_id == referral.from_organisation_id:
        sides.append(SENDING)
    if organisation_id == referral.to_organisation_id:
        sides.append(RECEIVING)
    return tuple(sides)


def acting_refusal(caller: Caller) -> Refusal | None:
    """Why ``caller`` may not act on referrals at all (sending one included), or None."""
    if caller.organisation_id is None:
        return Refusal("no_organisation", "You are not an active member of an organisation.", "permission")
    if caller.role not in ACTING_ROLES:
        return Refusal("role_cannot_act", "Viewers cannot act on referrals.", "permission")
    return None


def refusal(action: str, referral: ReferralState, caller: Caller, *, state: bool = True) -> Refusal | None:
    """Why ``caller`` may not take ``action`` now, or None when they may. Checks run in a fixed
    order (membership, acting role, side, the action's role, state, grant, shared data) so every
    surface gives the same first reason. ``state=False`` stops after who may ask: an idempotent
    retry is answered there."""
    t = TABLE[action]
    if (refused := acting_refusal(caller)) is not None:
        return refused
    wrong_side = Refusal(
        "wrong_side", f"Only the {t.side} side may {action.replace('_', ' ')} this referral.", "permission"
    )
    if t.side not in sides_of(referral, caller.organisation_id):
        return wrong_side
    if caller.role not in t.roles:
        return Refusal("focal_point_required", t.refused_role_message, "permission")
    if state and referral.status not in t.sources:
        return Refusal("invalid_transition", t.state_message(referral.status), "conflict")
    if t.permission not in caller.permissions:
        # the grant went with the state (a withdrawn referral): the state is the clearer reason
        if referral.status not in t.sources:
            return Refusal("invalid_transition", t.state_message(referral.status), "conflict")
        return wrong_side
    if state and t.needs_payload and referral.payload_erased:
        return Refusal("payload_erased", "The shared data of this referral has been erased.", "conflict")
    return None


def allowed_actions(referral: ReferralState, caller: Caller) -> frozenset[str]:
    return frozenset(action for action in ACTIONS if refusal(action, referral, caller) is None)
