"""Who may do what to a referral, written out by hand from docs/referrals.md ("States" and "What
each side sees"): one line per state, role and side, listing every action allowed there. Nothing here
is read from the code's own tables; the transition tests, the service tests and both API tests
compare against it.

A caller on the receiving side holds ``respond_referral``; on the sending side ``manage_referral``
(the grants a sent referral carries). Viewers read but never act.
"""

ACTIONS = ("acknowledge", "accept", "decline", "complete", "close", "withdraw", "assign", "refer_onward")
STATES = ("sent", "acknowledged", "accepted", "declined", "completed", "closed", "withdrawn")
ROLES = ("focal_point", "caseworker", "viewer")
SIDES = ("sending", "receiving")

_MATRIX = """
# state        role          side        allowed actions
sent           focal_point   receiving   acknowledge accept decline assign
sent           caseworker    receiving   acknowledge accept decline
sent           focal_point   sending     withdraw
sent           caseworker    sending     withdraw
acknowledged   focal_point   receiving   accept decline assign
acknowledged   caseworker    receiving   accept decline
acknowledged   focal_point   sending     withdraw
acknowledged   caseworker    sending     withdraw
accepted       focal_point   receiving   complete assign refer_onward
accepted       caseworker    receiving   complete refer_onward
accepted       focal_point   sending     withdraw
accepted       caseworker    sending     withdraw
completed      focal_point   sending     close
completed      caseworker    sending     close
"""


def _parse() -> dict[tuple[str, str, str], frozenset[str]]:
    allowed = {(state, role, side): frozenset() for state in STATES for role in ROLES for side in SIDES}
    for line in _MATRIX.strip().splitlines():
        if line.startswith("#"):
            continue
        state, role, side, *actions = line.split()
        allowed[(state, role, side)] = frozenset(actions)
    return allowed


EXPECTED = _parse()


def expected(state: str, role: str, side: str) -> frozenset[str]:
    return EXPECTED[(state, role, side)]


# The "States" table of docs/referrals.md, for the actions that change the state:
# action → (states it starts from, state it leads to, side that takes it, event it writes).
STATE_CHANGES = {
    "acknowledge": (("sent",), "acknowledged", "receiving", "acknowledged"),
    "accept": (("sent", "acknowledged"), "accepted", "receiving", "accepted"),
    "decline": (("sent", "acknowledged"), "declined", "receiving", "declined"),
    "complete": (("accepted",), "completed", "receiving", "completed"),
    "close": (("completed",), "closed", "sending", "closed"),
    "withdraw": (("sent", "acknowledged", "accepted"), "withdrawn", "sending", "withdrawn"),
}


# Who is told of each transition, and the kind of notice (docs/referrals.md, "Who is told"):
# closed loop for the referrer; withdrawal (and consent withdrawal, "delete your copy") for the
# receiving side; an outcome reaches the referrers of earlier referrals in an onward chain too.
NOTICES = {
    "acknowledge": (("referrer",), "referral_acknowledged"),
    "accept": (("referrer",), "referral_accepted"),
    "decline": (("referrer",), "referral_declined"),
    "complete": (("referrer", "earlier_referrers"), "outcome_recorded"),
    "close": ((), ""),
    "withdraw": (("receiving_focal_point", "assignee"), "referral_withdrawn"),
    "consent_withdrawn": (("receiving_focal_point", "assignee"), "consent_withdrawn"),
    # escalation climbs: level 1 the receiving focal point, level 2 the sending focal point and the
    # operation's coordinator; on the answer clock, then (accepted) on the outcome clock
    "no_answer_level_1": (("receiving_focal_point",), "referral_escalated"),
    "no_answer_level_2": (("sending_focal_point", "operation_coordinator"), "referral_escalated"),
    "no_outcome_level_1": (("receiving_focal_point",), "outcome_overdue"),
    "no_outcome_level_2": (("sending_focal_point", "operation_coordinator"), "outcome_overdue"),
}
# From which states each escalation climbs (the answer clock, then the outcome clock)
ESCALATION_SOURCES = {
    "no_answer_level_1": ("sent", "acknowledged"),
    "no_answer_level_2": ("sent", "acknowledged"),
    "no_outcome_level_1": ("accepted",),
    "no_outcome_level_2": ("accepted",),
}
