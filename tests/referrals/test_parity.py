"""REST and GraphQL tell every caller the same facts about a referral.

For a referral in each state (and after a sender withdrawal, a consent withdrawal, a consent
withdrawal after completion, a restriction to one caseworker), with the narrative shared and not,
each of seven callers reads the REST detail and events and the GraphQL ``referral``: visible or not,
status, payload, shared fields, notes, assignee, allowed actions, tombstone and events must agree.
Beside the comparison, each answer is checked against what the caller should know, written out here
from docs/referrals.md and the matrix (equal answers could otherwise be equally wrong).
"""

from dataclasses import dataclass

import pytest
from graphene.utils.str_converters import to_snake_case

from consent.services import consent_withdraw
from referrals import services
from tests.referrals.api_helpers import gid, ok
from tests.referrals.expected_matrix import ACTIONS, expected
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

BASE = "/api/v1/referrals"
REASON_NOTE = "she is afraid to go to the water point alone"
NOTES = {
    "acknowledge": "seen by the duty officer",
    "accept": "first appointment on Monday",
    "decline": "our shelter is full this month",
    "complete": "three counselling sessions held",
    "close": "loop closed with the family",
    "withdraw": "she moved to her sister in town",
}
OUTCOME = "partially_provided"

FIELDS = """
    reference status outcome restricted sharedFields hasNote payloadErased reasonNote outcomeNote
    payload {
      givenName familyName phone bestTimeToCall preferredLanguage preferredChannel sex ageBand
      dateOfBirth location registrationNumber householdSize specificNeeds protectionConcerns narrative
    }
    assignedTo { username }
    viewerCan { acknowledge accept decline complete referOnward assign withdraw close }
    events { kind note }
"""
QUERY = "query ($id: ID!) { referral(id: $id) {" + FIELDS + "} }"
LISTS = {
    "sending": "{ list: sentReferrals(first: 10) { edges { node {" + FIELDS + "} } } }",
    "receiving": "{ list: referralInbox(first: 10) { edges { node {" + FIELDS + "} } } }",
}


# Steps: ("assign", restrict) by the receiving focal point; (side, action, arguments) through the
# service; ("consent_withdrawn",) by the sender.
ASSIGN, RESTRICT = ("assign", False), ("assign", True)
ACK = ("b", "acknowledge", {"note": NOTES["acknowledge"]})
ACCEPT = ("b", "accept", {"note": NOTES["accept"]})
DECLINE = ("b", "decline", {"reason_code": "no_capacity", "note": NOTES["decline"]})
COMPLETE = ("b", "complete", {"outcome": OUTCOME, "note": NOTES["complete"]})
CLOSE = ("a", "close", {"note": NOTES["close"]})
WITHDRAW = ("a", "withdraw", {"reason_code": "other", "note": NOTES["withdraw"]})
CONSENT_WITHDRAWN = ("consent_withdrawn",)


@dataclass(frozen=True)
class Scenario:
    steps: tuple
    status: str
    restricted: bool = False

    @property
    def erased(self) -> bool:
        return CONSENT_WITHDRAWN in self.steps

    @property
    def completed(self) -> bool:
        return COMPLETE in self.steps


SCENARIOS = {
    "sent": Scenario((ASSIGN,), "sent"),
    "acknowledged": Scenario((ASSIGN, ACK), "acknowledged"),
    "accepted": Scenario((ASSIGN, ACK, ACCEPT), "accepted"),
    "declined": Scenario((ASSIGN, DECLINE), "declined"),
    "completed": Scenario((ASSIGN, ACCEPT, COMPLETE), "completed"),
    "closed": Scenario((ASSIGN, ACCEPT, COMPLETE, CLOSE), "closed"),
    "withdrawn_by_sender": Scenario((ASSIGN, ACCEPT, WITHDRAW), "withdrawn"),
    "withdrawn_by_consent": Scenario((ASSIGN, ACCEPT, CONSENT_WITHDRAWN), "withdrawn"),
    "completed_then_consent_withdrawn": Scenario((ASSIGN, ACCEPT, COMPLETE, CONSENT_WITHDRAWN), "completed"),
    "restricted_sent": Scenario((RESTRICT,), "sent", restricted=True),
    "restricted_accepted": Scenario((RESTRICT, ACCEPT), "accepted", restricted=True),
    "restricted_completed": Scenario((RESTRICT, ACCEPT, COMPLETE), "completed", restricted=True),
    "restricted_withdrawn": Scenario((RESTRICT, ACCEPT, WITHDRAW), "withdrawn", restricted=True),
    "restricted_withdrawn_by_consent": Scenario(
        (RESTRICT, ACCEPT, CONSENT_WITHDRAWN), "withdrawn", restricted=True
    ),
}

# caller → (organisation, role attribute, role in the matrix)
CALLERS = {
    "sending caseworker": ("a", "caseworker", "caseworker"),
    "sending viewer": ("a", "viewer", "viewer"),
    "receiving focal point": ("b", "focal_point", "focal_point"),
    "assigned caseworker": ("b", "caseworker", "caseworker"),
    "other receiving caseworker": ("b", "caseworker2", "caseworker"),  # restricted out, when restricted
    "receiving viewer": ("b", "viewer", "viewer"),
    "outsider": ("c", "focal_point", "focal_point"),
}


def build(scenario: Scenario, narrative: bool):
    categories = ["given_name", "phone", "best_time_to_call"] + (["narrative"] if narrative else [])
    world = build_world(data_categories=categories)
    # the service offers the narrative either way; asked for only where the consent covers it (asking
    # for a field the consent does not cover is refused), so only the consent decides whether the note
    # travels
    optional = ["best_time_to_call", "narrative"] if narrative else ["best_time_to_call"]
    referral = world.send(reason_note=REASON_NOTE, optional_fields=optional)
    for step in scenario.steps:
        if step[0] == "assign":
            referral = services.referral_assign(
                actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker, restrict=step[1]
            )
        elif step == CONSENT_WITHDRAWN:
            consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="phone")
        else:
            side, action, arguments = step
            actor = getattr(world, side).caseworker
            referral = services.referral_transition(
                actor=actor, referral=referral, action=action, **arguments
            )
    referral.refresh_from_db()
    assert referral.status == scenario.status
    return world, referral


# What both APIs say, in one shape --------------------------------------------------------------


def rest_shape(body: dict, events: list | None) -> dict:
    return {
        "reference": body["reference"],
        "status": body["status"],
        "outcome": body["outcome"] or None,
        "restricted": body["restricted"],
        "payload": body["payload"],
        "shared_fields": body["shared_fields"],
        "has_note": body["has_note"],
        "payload_erased": body["payload_erased_at"] is not None,
        "reason_note": body["reason_note"],
        "outcome_note": body["outcome_note"],
        "assigned_to": body["assigned_to"],
        "allowed_actions": set(body["allowed_actions"]),
        "events": None if events is None else [(event["kind"], event["note"]) for event in events],
    }


def graphql_shape(data: dict) -> dict:
    payload = data["payload"]
    return {
        "reference": data["reference"],
        "status": data["status"].lower(),
        "outcome": data["outcome"].lower() if data["outcome"] else None,
        "restricted": data["restricted"],
        # every field of the type is there; the shared ones carry a value
        "payload": None
        if payload is None
        else {to_snake_case(name): value for name, value in payload.items() if value is not None},
        "shared_fields": data["sharedFields"],
        "has_note": data["hasNote"],
        "payload_erased": data["payloadErased"],
        "reason_note": data["reasonNote"],
        "outcome_note": data["outcomeNote"],
        "assigned_to": data["assignedTo"]["username"] if data["assignedTo"] else None,
        "allowed_actions": {to_snake_case(action) for action, can in data["viewerCan"].items() if can},
        "events": [(event["kind"].lower(), event["note"]) for event in data["events"]],
    }


def rest_facts(api, user, referral) -> dict | None:
    client = api(user)
    response = client.get(f"{BASE}/{referral.id}")
    events = client.get(f"{BASE}/{referral.id}/events")
    if response.status_code == 404:
        assert events.status_code == 404
        assert response.json()["error"]["code"] == "referral_not_found"
        return None
    assert response.status_code == events.status_code == 200, (response.content, events.content)
    return {**rest_shape(response.json(), events.json()), "side": response.json()["side"]}


def graphql_facts(gql, user, referral) -> dict | None:
    data = ok(gql(user, QUERY, {"id": gid("Referral", referral)})[1])["referral"]
    return None if data is None else graphql_shape(data)


def listed_facts(api, gql, user, side: str) -> tuple[list[dict], list[dict]]:
    """The caller's list of that side, in both APIs (REST rows carry no events)."""
    direction = "sent" if side == "sending" else "received"
    response = api(user).get(BASE, {"direction": direction})
    assert response.status_code == 200, response.content
    rest = [rest_shape(row, None) for row in response.json()["results"]]
    edges = ok(gql(user, LISTS[side])[1])["list"]["edges"]
    return rest, [graphql_shape(edge["node"]) for edge in edges]


# What each caller should know, written out -------------------------------------------------------


def visible(scenario: Scenario, caller: str) -> bool:
    if caller == "outsider":
        return False
    restricted_out = caller in ("other receiving caseworker", "receiving viewer")
    return not (scenario.restricted and restricted_out)


def check_absolute(facts: dict, scenario: Scenario, narrative: bool, caller: str, world, referral):
    organisation, _attribute, role = CALLERS[caller]
    side = "sending" if organisation == "a" else "receiving"
    tombstone = side == "receiving" and scenario.status == "withdrawn"
    hidden = tombstone or scenario.erased
    assert facts["side"] == side
    assert facts["status"] == scenario.status
    assert facts["reference"] == referral.reference
    assert facts["restricted"] is scenario.restricted
    assert facts["payload_erased"] is scenario.erased
    assert facts["allowed_actions"] == set(expected(scenario.status, role, side))

    fields = ["given_name", "phone", "best_time_to_call"] + (["narrative"] if narrative else [])
    assert facts["shared_fields"] == ([] if tombstone else fields)
    if hidden:
        assert facts["payload"] is None
    else:
        payload = {"given_name": "Amal", "phone": "+254700111222", "best_time_to_call": "mornings"}
        if narrative:
            payload["narrative"] = REASON_NOTE  # the note is the narrative
        assert facts["payload"] == payload

    # the sender reads its own note; the receiver only when it travelled; nobody after erasure
    if hidden:
        assert facts["reason_note"] is None
    elif side == "sending":
        assert facts["reason_note"] == REASON_NOTE
    else:
        assert facts["reason_note"] == (REASON_NOTE if narrative else None)
    assert facts["has_note"] is (not tombstone)

    # the outcome code stays after erasure; the outcome note does not
    assert facts["outcome"] == (OUTCOME if scenario.completed else None)
    assert facts["outcome_note"] == (NOTES["complete"] if scenario.completed and not hidden else None)

    # the sender never learns who works the case; the tombstone names nobody
    if side == "sending" or tombstone:
        assert facts["assigned_to"] is None
    else:
        assert facts["assigned_to"] == world.b.caseworker.username

    kinds = [kind for kind, _note in facts["events"]]
    assert kinds[0] == "sent" and "assigned" in kinds
    notes = [note for _kind, note in facts["events"] if note is not None]
    if hidden:
        assert notes == []
    else:
        written = [step[2]["note"] for step in scenario.steps if len(step) == 3]
        assert notes == written
    if scenario.erased:
        assert kinds[-1] == "payload_erased"


@pytest.mark.parametrize("narrative", [True, False], ids=["narrative_shared", "narrative_not_shared"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_rest_and_graphql_tell_every_caller_the_same(api, gql, name, narrative):
    scenario = SCENARIOS[name]
    world, referral = build(scenario, narrative)
    for caller, (organisation, attribute, _role) in CALLERS.items():
        user = getattr(getattr(world, organisation), attribute)
        rest = rest_facts(api, user, referral)
        graphql = graphql_facts(gql, user, referral)
        # not visible in one ⇔ not visible in the other
        assert (rest is None) == (graphql is None), (caller, rest, graphql)
        assert (rest is not None) is visible(scenario, caller), caller
        if rest is None:  # nor is it in either API's list
            assert listed_facts(api, gql, user, "receiving") == ([], []), caller
            continue
        side = rest.pop("side")
        for fact, value in rest.items():
            assert graphql[fact] == value, (caller, fact, value, graphql[fact])
        assert set(graphql) == set(rest)
        check_absolute({**rest, "side": side}, scenario, narrative, caller, world, referral)
        # the lists show each row as the detail does
        rest_rows, graphql_rows = listed_facts(api, gql, user, side)
        assert [row["reference"] for row in rest_rows] == [row["reference"] for row in graphql_rows]
        assert [row["reference"] for row in rest_rows] == [referral.reference], caller
        assert graphql_rows == [graphql], caller
        assert rest_rows == [{**rest, "events": None}], caller


def test_the_viewer_can_flags_cover_every_action_the_matrix_names():
    fields = QUERY.split("viewerCan {")[1].split("}")[0].split()
    assert sorted(to_snake_case(field) for field in fields) == sorted(ACTIONS)
