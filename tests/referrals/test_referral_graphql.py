"""The partner GraphQL API over referrals: visibility, responses, query counts, the access log."""

from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from consent.services import consent_new_version
from hub.schema import schema
from partners.models import Membership
from partners.services import membership_deactivate
from referrals import services, transitions
from referrals.models import AccessLog, Referral
from referrals.selectors import permission_id, referral_list_visible
from tests.conftest import token_for
from tests.factories import ServiceFactory
from tests.referrals.api_helpers import bring_to, caseworker_id, gid, ok
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
AUTH_QUERIES = 2  # the token lookup; not part of what an operation costs

INBOX = """
query ($first: Int!, $status: ReferralStatus, $assignedToMe: Boolean, $search: String, $overdue: Boolean) {
  referralInbox(
    first: $first, status: $status, assignedToMe: $assignedToMe, search: $search, overdue: $overdue
  ) {
    edges { node {
      id reference status urgency dueBy overdue
      senderOrganisation { name acronym }
      service { name organisation { acronym } category { code } }
      pathwayStep { key }
      lastEvent { kind at organisation { acronym } actorName }
      viewerCan { acknowledge accept decline complete referOnward assign withdraw close }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

REFERRAL = """
query ($id: ID!) {
  referral(id: $id) {
    id reference status sharedFields hasNote reasonNote
    payload { givenName familyName phone bestTimeToCall narrative protectionConcerns householdSize }
    events { id kind }
    viewerCan { acknowledge accept decline complete referOnward assign withdraw close }
  }
}
"""


def inbox_references(gql, user, **variables) -> list[str]:
    data = ok(gql(user, INBOX, {"first": 100, **variables})[1])
    return [edge["node"]["reference"] for edge in data["referralInbox"]["edges"]]


@pytest.fixture
def world():
    return build_world()


@pytest.fixture(autouse=True)
def _warm_process_caches(db):
    # permission ids and content types are cached per process; warm them so counts are exact
    permission_id("view_referral")
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.get_for_model(Referral)


# Visibility -------------------------------------------------------------------------------------


def test_partner_sees_exactly_the_referrals_granted_to_its_organisation(gql, world):
    first, second = world.send(idempotency_key="k1"), world.send(idempotency_key="k2")
    for user in (world.b.focal_point, world.b.caseworker, world.b.viewer):
        assert sorted(inbox_references(gql, user)) == sorted([first.reference, second.reference])
    for user in (world.a.caseworker, world.c.focal_point):
        assert inbox_references(gql, user) == []
    sent = ok(gql(world.a.viewer, "{ sentReferrals(first: 10) { edges { node { reference } } } }")[1])
    assert {edge["node"]["reference"] for edge in sent["sentReferrals"]["edges"]} == {
        first.reference,
        second.reference,
    }
    # the same selector as REST decides
    assert set(referral_list_visible(user=world.b.caseworker)) == {first, second}


def test_restricted_referral_is_seen_only_by_the_assigned_caseworker(gql, world):
    referral = world.send()
    services.referral_assign(
        actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker, restrict=True
    )
    assert inbox_references(gql, world.b.caseworker) == [referral.reference]
    assert inbox_references(gql, world.b.caseworker, assignedToMe=True) == [referral.reference]
    assert inbox_references(gql, world.b.focal_point) == [referral.reference]  # the one who restricted it
    for user in (world.b.caseworker2, world.b.viewer):
        assert inbox_references(gql, user) == []
        assert ok(gql(user, REFERRAL, {"id": gid("Referral", referral)})[1]) == {"referral": None}


def test_inbox_filters(gql, world):
    emergency = world.send(idempotency_key="k1", urgency="emergency")
    normal = world.send(idempotency_key="k2")
    services.referral_transition(actor=world.b.caseworker, referral=normal, action="accept")
    Referral.objects.filter(pk=emergency.pk).update(due_by="2000-01-01T00:00Z")  # test data: long overdue
    user = world.b.caseworker
    assert inbox_references(gql, user, status="ACCEPTED") == [normal.reference]
    assert inbox_references(gql, user, overdue=True) == [emergency.reference]
    assert inbox_references(gql, user, overdue=False) == [normal.reference]
    # the start of the reference, as read out on the phone, with or without its "R-", any case
    assert inbox_references(gql, user, search=emergency.reference[2:7].lower()) == [emergency.reference]
    assert inbox_references(gql, user, search=emergency.reference[:6]) == [emergency.reference]
    assert inbox_references(gql, user, search=emergency.reference[-5:]) == []  # not the middle or end
    assert inbox_references(gql, user, assignedToMe=True) == []
    urgent = ok(
        gql(user, "{ referralInbox(first: 5, urgency: EMERGENCY) { edges { node { reference } } } }")[1]
    )
    assert [edge["node"]["reference"] for edge in urgent["referralInbox"]["edges"]] == [emergency.reference]


def test_receiver_sees_only_shared_fields_and_never_the_unshared_note(gql, world):
    referral = world.send(reason_note="she fears for her safety")
    data = ok(gql(world.b.caseworker, REFERRAL, {"id": gid("Referral", referral)})[1])["referral"]
    assert data["sharedFields"] == ["given_name", "phone"]
    assert data["payload"] == {
        "givenName": "Amal",
        "phone": "+254700111222",
        "familyName": None,
        "bestTimeToCall": None,
        "narrative": None,
        "protectionConcerns": None,
        "householdSize": None,
    }
    assert data["hasNote"] is True and data["reasonNote"] is None
    sender = ok(gql(world.a.caseworker2, REFERRAL, {"id": gid("Referral", referral)})[1])["referral"]
    assert sender["reasonNote"] == "she fears for her safety"


def test_the_referral_type_has_no_path_to_the_person():
    fields = set(schema.graphql_schema.get_type("Referral").fields)
    assert not fields & {"person", "consent", "personId"}
    assert set(schema.graphql_schema.get_type("ReferralPayload").fields) == {
        "givenName",
        "familyName",
        "phone",
        "bestTimeToCall",
        "preferredLanguage",
        "preferredChannel",
        "sex",
        "ageBand",
        "dateOfBirth",
        "location",
        "registrationNumber",
        "householdSize",
        "specificNeeds",
        "protectionConcerns",
        "narrative",
    }


def node_type_names() -> list[str]:
    graphql_schema = schema.graphql_schema
    return sorted(t.name for t in graphql_schema.get_possible_types(graphql_schema.get_type("Node")))


def test_every_node_type_is_listed():
    # if a type is added, the next test covers it automatically; this keeps the list honest
    assert {"Referral", "ReferralEvent", "Organisation", "Service", "Location", "Pathway"} <= set(
        node_type_names()
    )


@pytest.mark.parametrize("type_name", node_type_names())
def test_another_organisations_referral_id_as_any_type_is_null(gql, world, type_name):
    referral = world.send()
    event = referral.events.get()
    query = "query ($id: ID!) { node(id: $id) { id __typename } }"
    for raw in (referral, event):
        body = gql(world.c.focal_point, query, {"id": gid(type_name, raw)})[1]
        assert ok(body) == {"node": None}
    # the same ids work for a party, under their own type only
    if type_name in ("Referral", "ReferralEvent"):
        own = referral if type_name == "Referral" else event
        body = gql(world.b.caseworker, query, {"id": gid(type_name, own)})[1]
        assert ok(body)["node"] == {"id": gid(type_name, own), "__typename": type_name}


def test_other_organisations_referral_is_not_found_everywhere(gql, world):
    referral = world.send()
    outsider = world.c.focal_point
    referral_id = gid("Referral", referral)
    assert ok(gql(outsider, REFERRAL, {"id": referral_id})[1]) == {"referral": None}
    for garbage in ("not-base64!", to_global_id("Referral", "nope"), to_global_id("Nope", str(referral.pk))):
        assert ok(gql(outsider, "query ($id: ID!) { node(id: $id) { id } }", {"id": garbage})[1]) == {
            "node": None
        }
        assert ok(gql(world.b.caseworker, REFERRAL, {"id": garbage})[1]) == {"referral": None}
    body = gql(outsider, ACCEPT, {"id": referral_id})[1]
    assert ok(body)["acceptReferral"] == {
        "referral": None,
        # the same answer, field included, as a malformed or random id gets
        "errors": [{"code": "referral_not_found", "message": "No such referral.", "field": "id"}],
    }
    garbage_body = gql(outsider, ACCEPT, {"id": "not-a-global-id"})[1]
    assert ok(garbage_body) == ok(body)
    referral.refresh_from_db()
    assert referral.status == "sent"


ACCEPT = """
mutation ($id: ID!) { acceptReferral(id: $id) { referral { id status } errors { code message field } } }
"""


# Mutations: who may do what, in which state ------------------------------------------------------

RECEIVING_ACTIONS = {
    "acknowledge": {"sent"},
    "accept": {"sent", "acknowledged"},
    "decline": {"sent", "acknowledged"},
    "complete": {"accepted"},
    "referOnward": {"accepted"},
    "assign": {"sent", "acknowledged", "accepted"},
}
SENDING_ACTIONS = {"withdraw": {"sent", "acknowledged", "accepted"}, "close": {"completed"}}
ACTORS = (
    "a.focal_point",
    "a.caseworker",
    "a.viewer",
    "b.focal_point",
    "b.caseworker",
    "b.viewer",
    "c.focal_point",
)
STATES = ("sent", "acknowledged", "accepted", "declined", "completed", "closed", "withdrawn")


def expected_error(actor: str, state: str, action: str) -> str | None:
    """DESIGN.md "Referral states" and §4, written out independently of the services' tables."""
    org, role = actor.split(".")
    party = org in ("a", "b")  # a withdrawn referral stays with the receiver, as a tombstone
    if not party:
        return "referral_not_found"
    if role == "viewer":
        return "role_cannot_act"
    side, allowed = (
        ("b", RECEIVING_ACTIONS[action]) if action in RECEIVING_ACTIONS else ("a", SENDING_ACTIONS[action])
    )
    if org != side:
        return "wrong_side"
    if action == "assign" and role != "focal_point":
        return "focal_point_required"
    return None if state in allowed else "invalid_transition"


def mutation_for(action: str, world, onward_service) -> tuple[str, dict]:
    arguments = {
        "acknowledge": ("acknowledgeReferral", "", {}),
        "accept": ("acceptReferral", "", {}),
        "decline": ("declineReferral", ', reason: "no_capacity"', {}),
        "complete": ("completeReferral", ", outcome: SERVICE_PROVIDED", {}),
        "referOnward": (
            "referOnward",
            ', toService: $service, idempotencyKey: "onward-1"',
            {"service": ("ID!", gid("Service", onward_service))},
        ),
        "assign": (
            "assignReferral",
            ", caseworker: $caseworker",
            {"caseworker": ("ID!", caseworker_id(world.b.caseworker))},
        ),
        "withdraw": ("withdrawReferral", ', reason: "person_request"', {}),
        "close": ("closeReferral", "", {}),
    }
    field, extra, variables = arguments[action]
    declared = "".join(f", ${name}: {kind}" for name, (kind, _value) in variables.items())
    document = (
        f"mutation ($id: ID!{declared}) {{ m: {field}(id: $id{extra}) "
        "{ referral { id status } errors { code message field } } }"
    )
    return document, {name: value for name, (_kind, value) in variables.items()}


@pytest.mark.parametrize("state", STATES)
def test_mutation_matrix_by_side_state_and_role_and_viewer_can_agrees(gql, state):
    world = build_world()
    world.consent = consent_new_version(
        actor=world.a.caseworker, previous=world.consent, recipients=[world.b.id, world.c.id]
    )
    onward_service = ServiceFactory(
        organisation=world.c,
        category=world.service_b.category,
        required_fields=["given_name"],
        optional_fields=[],
    )
    referral = bring_to(world, state)
    referral_id = gid("Referral", referral)
    actions = [*RECEIVING_ACTIONS, *SENDING_ACTIONS]
    for actor in ACTORS:
        org, role = actor.split(".")
        user = getattr(getattr(world, org), role)
        seen = ok(gql(user, REFERRAL, {"id": referral_id})[1])["referral"]
        for action in actions:
            want = expected_error(actor, state, action)
            document, variables = mutation_for(action, world, onward_service)
            with transaction.atomic():  # every attempt starts from the same state
                body = gql(user, document, {"id": referral_id, **variables})[1]
                transaction.set_rollback(True)
            result = ok(body)["m"]
            got = result["errors"][0]["code"] if result["errors"] else None
            assert got == want, (actor, state, action, result)
            if want is None:
                assert result["referral"] is not None
            else:
                assert result["referral"] is None
            if seen is None:
                assert want == "referral_not_found"
            else:
                assert seen["viewerCan"][action] is (want is None), (actor, state, action)


def test_mutation_results_and_side_effects(gql, world):
    referral = world.send()
    referral_id = gid("Referral", referral)
    body = gql(world.b.caseworker, ACCEPT, {"id": referral_id})[1]
    assert ok(body)["acceptReferral"] == {"referral": {"id": referral_id, "status": "ACCEPTED"}, "errors": []}
    again = ok(gql(world.b.caseworker2, ACCEPT, {"id": referral_id})[1])["acceptReferral"]
    assert again["referral"] is None and again["errors"][0]["code"] == "invalid_transition"

    complete = """mutation ($id: ID!, $note: String) { completeReferral(id: $id, note: $note) {
        referral { status outcome } errors { code field } } }"""
    missing = ok(gql(world.b.caseworker, complete, {"id": referral_id})[1])["completeReferral"]
    assert missing == {"referral": None, "errors": [{"code": "outcome_required", "field": "outcome"}]}

    complete = complete.replace("note: $note)", "note: $note, outcome: PERSON_UNREACHABLE)")
    done = ok(gql(world.b.caseworker, complete, {"id": referral_id, "note": "three calls"})[1])[
        "completeReferral"
    ]
    assert done == {"referral": {"status": "COMPLETED", "outcome": "PERSON_UNREACHABLE"}, "errors": []}
    # closed loop: the referrer sees the outcome and may close
    sent = ok(
        gql(
            world.a.caseworker,
            "{ sentReferrals(first: 5) { edges { node { outcome outcomeNote viewerCan { close } } } } }",
        )[1]
    )
    assert sent["sentReferrals"]["edges"][0]["node"] == {
        "outcome": "PERSON_UNREACHABLE",
        "outcomeNote": "three calls",
        "viewerCan": {"close": True},
    }


def test_decline_without_a_reason_names_the_argument(gql, world):
    referral = world.send()
    document = """mutation ($id: ID!, $reason: String, $note: String) {
        declineReferral(id: $id, reason: $reason, note: $note) {
            referral { status } errors { code field } } }"""
    variables = {"id": gid("Referral", referral)}
    errors = ok(gql(world.b.caseworker, document, variables)[1])["declineReferral"]["errors"]
    assert errors == [{"code": "reason_required", "field": "reason"}]
    errors = ok(gql(world.b.caseworker, document, {**variables, "reason": "other"})[1])["declineReferral"][
        "errors"
    ]
    assert errors == [{"code": "note_required", "field": "note"}]
    result = ok(gql(world.b.caseworker, document, {**variables, "reason": "other", "note": "no staff"})[1])
    assert result["declineReferral"] == {"referral": {"status": "DECLINED"}, "errors": []}


def test_withdrawal_removes_the_receivers_access(gql, world):
    referral = world.send()
    document = """mutation ($id: ID!) { withdrawReferral(id: $id, reason: "no_longer_needed") {
        referral { status viewerCan { withdraw close } } errors { code } } }"""
    result = ok(gql(world.a.caseworker, document, {"id": gid("Referral", referral)})[1])["withdrawReferral"]
    assert result == {
        "referral": {"status": "WITHDRAWN", "viewerCan": {"withdraw": False, "close": False}},
        "errors": [],
    }
    # the receiver keeps a tombstone in its inbox: withdrawn, no payload, nothing it may do
    assert inbox_references(gql, world.b.focal_point) == [referral.reference]
    document = """query ($id: ID!) { referral(id: $id) { reference status payload { givenName } sharedFields
        reasonNote assignedTo { username } viewerCan { accept decline } } }"""
    seen = ok(gql(world.b.focal_point, document, {"id": gid("Referral", referral)})[1])["referral"]
    assert seen == {
        "reference": referral.reference,
        "status": "WITHDRAWN",
        "payload": None,
        "sharedFields": [],
        "reasonNote": None,
        "assignedTo": None,
        "viewerCan": {"accept": False, "decline": False},
    }
    assert ok(gql(world.c.focal_point, REFERRAL, {"id": gid("Referral", referral)})[1]) == {"referral": None}


def test_assign_and_restrict_then_caseworkers_list(gql, world):
    referral = world.send()
    listing = ok(gql(world.b.focal_point, "{ assignableCaseworkers { id username } }")[1])
    usernames = {entry["username"] for entry in listing["assignableCaseworkers"]}
    assert usernames == {
        world.b.focal_point.username,
        world.b.caseworker.username,
        world.b.caseworker2.username,
    }
    document = """mutation ($id: ID!, $cw: ID!) { assignReferral(id: $id, caseworker: $cw, restrict: true) {
        referral { restricted assignedTo { username } } errors { code field } } }"""
    stranger = caseworker_id(world.c.caseworker)
    bad = ok(gql(world.b.focal_point, document, {"id": gid("Referral", referral), "cw": stranger})[1])
    assert bad["assignReferral"]["errors"] == [{"code": "invalid_assignee", "field": "caseworker"}]
    good = ok(
        gql(
            world.b.focal_point,
            document,
            {"id": gid("Referral", referral), "cw": caseworker_id(world.b.caseworker)},
        )[1]
    )
    assert good["assignReferral"] == {
        "referral": {"restricted": True, "assignedTo": {"username": world.b.caseworker.username}},
        "errors": [],
    }
    # the sender does not learn who works the case at the receiving end
    sent = ok(
        gql(world.a.caseworker, "{ sentReferrals(first: 1) { edges { node { assignedTo { username } } } } }")[
            1
        ]
    )
    assert sent["sentReferrals"]["edges"][0]["node"]["assignedTo"] is None


def test_caseworker_ids_are_membership_uuids_never_user_numbers(gql, world):
    referral = world.send()
    listing = ok(gql(world.b.focal_point, "{ assignableCaseworkers { id username } }")[1])
    ids = {entry["username"]: entry["id"] for entry in listing["assignableCaseworkers"]}
    memberships = Membership.objects.filter(
        organisation=world.b, is_active=True, role__in=transitions.ACTING_ROLES
    )
    assert ids == {m.user.username: to_global_id("Caseworker", str(m.pk)) for m in memberships}
    document = """mutation ($id: ID!, $cw: ID!) { assignReferral(id: $id, caseworker: $cw) {
        referral { assignedTo { id username } } errors { code field } } }"""
    cw = ids[world.b.caseworker.username]
    result = ok(gql(world.b.focal_point, document, {"id": gid("Referral", referral), "cw": cw})[1])
    assert result["assignReferral"] == {
        "referral": {"assignedTo": {"id": cw, "username": world.b.caseworker.username}},
        "errors": [],
    }
    inbox = "{ referralInbox(first: 5) { edges { node { assignedTo { id } } } } }"
    node = ok(gql(world.b.focal_point, inbox)[1])["referralInbox"]["edges"][0]["node"]
    assert node == {"assignedTo": {"id": cw}}


@pytest.mark.parametrize("kind", ["user_number", "other_organisation", "inactive", "not_a_uuid", "garbage"])
def test_assign_refuses_any_caseworker_id_but_an_active_membership_of_the_receiver(gql, world, kind):
    referral = world.send()
    if kind == "inactive":
        membership_deactivate(
            actor=world.b.focal_point, membership=Membership.objects.get(user=world.b.caseworker2)
        )
    caseworker = {
        "user_number": lambda: to_global_id("Caseworker", str(world.b.caseworker.pk)),
        "other_organisation": lambda: caseworker_id(world.c.caseworker),
        "inactive": lambda: to_global_id(
            "Caseworker", str(Membership.objects.get(user=world.b.caseworker2).pk)
        ),
        "not_a_uuid": lambda: to_global_id("Caseworker", "not-a-uuid"),
        "garbage": lambda: "not base64!",
    }[kind]()
    document = """mutation ($id: ID!, $cw: ID!) { assignReferral(id: $id, caseworker: $cw) {
        referral { id } errors { code field } } }"""
    result = ok(gql(world.b.focal_point, document, {"id": gid("Referral", referral), "cw": caseworker})[1])
    assert result["assignReferral"] == {
        "referral": None,
        "errors": [{"code": "invalid_assignee", "field": "caseworker"}],
    }
    referral.refresh_from_db()
    assert referral.assigned_to_id is None


def test_refer_onward_returns_both_referrals(gql, world):
    world.consent = consent_new_version(
        actor=world.a.caseworker, previous=world.consent, recipients=[world.b.id, world.c.id]
    )
    onward = ServiceFactory(
        organisation=world.c,
        category=world.service_b.category,
        required_fields=["given_name"],
        optional_fields=[],
    )
    referral = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    document = (OPERATIONS / "refer-onward.graphql").read_text()
    variables = {
        "id": gid("Referral", referral),
        "toService": gid("Service", onward),
        "idempotencyKey": "x-1",
    }
    result = ok(gql(world.b.caseworker, document, variables)[1])["referOnward"]
    assert result["errors"] == []
    assert result["referral"]["status"] == "ACCEPTED"
    child = result["onwardReferral"]
    assert child["service"]["organisation"]["acronym"] == "C" and child["sharedFields"] == ["given_name"]
    # the new recipient sees the child and nothing of the parent
    assert inbox_references(gql, world.c.caseworker) == [child["reference"]]
    assert ok(gql(world.c.caseworker, REFERRAL, {"id": gid("Referral", referral)})[1]) == {"referral": None}
    # retrying with the same key returns the same child
    again = ok(gql(world.b.caseworker, document, variables)[1])["referOnward"]
    assert again["onwardReferral"]["id"] == child["id"]
    hidden = {**variables, "toService": gid("Service", referral)}  # a referral id posing as a service
    errors = ok(gql(world.b.caseworker, document, hidden)[1])["referOnward"]["errors"]
    assert errors == [{"code": "service_not_found", "message": "No such service.", "field": "toService"}]


def test_a_failed_mutation_rolls_back_the_whole_operation(gql, world):
    referral = world.send()
    document = """mutation ($id: ID!) {
      ok: acknowledgeReferral(id: $id) { referral { status } errors { code } }
      bad: declineReferral(id: $id) { referral { status } errors { code } }
    }"""
    data = ok(gql(world.b.caseworker, document, {"id": gid("Referral", referral)})[1])
    assert data["ok"]["referral"]["status"] == "ACKNOWLEDGED"
    assert data["bad"]["errors"] == [{"code": "reason_required"}]
    referral.refresh_from_db()
    assert referral.status == "sent"  # ATOMIC_MUTATIONS: the acknowledgement did not stay
    assert list(referral.events.values_list("kind", flat=True)) == ["sent"]


# Query counts -----------------------------------------------------------------------------------


def along_a_pathway(world):
    """A published pathway from A's intake to B's service, both services at a location: the link a
    referral follows, and the intake it starts from."""
    from pathways.services import link_add, pathway_create, pathway_publish, step_add
    from tests.factories import LocationFactory, PlatformAdminFactory

    admin = PlatformAdminFactory()
    intake = ServiceFactory(organisation=world.a, name="Intake A", required_fields=["given_name"])
    for service in (intake, world.service_b):
        service.locations.add(LocationFactory(operation=world.a.operation, name=f"Near {service.name}"))
    pathway = pathway_create(actor=admin, operation=world.a.operation, name="GBV", theme="gbv")
    entry = step_add(actor=admin, pathway=pathway, service=intake, is_entry=True, key="intake-a")
    to_b = step_add(actor=admin, pathway=pathway, service=world.service_b, key="gbv-b")
    link = link_add(actor=admin, pathway=pathway, from_step=entry, to_step=to_b, preference=1)
    pathway_publish(actor=admin, pathway=pathway)
    return link, intake


INBOX_ALONG_PATHWAYS = INBOX.replace(
    "pathwayStep { key }",
    "pathwayStep { key service { name organisation { acronym } } } service { locations { name } }"
    " senderService { name locations { name } }",
)
INBOX_WITH_PATHWAYS = INBOX_ALONG_PATHWAYS.replace(
    "pathwayStep {", "pathway { name version operationName steps { key } links { key } } pathwayStep {"
)


def test_inbox_runs_a_fixed_number_of_queries_whatever_the_page_size(gql, world, django_assert_num_queries):
    link, intake = along_a_pathway(world)
    for index in range(50):  # every other one along the pathway, the newest too: each page has both
        along = {"from_service": intake, "pathway_link": link} if index % 2 else {}
        world.send(idempotency_key=f"k{index}", **along)
    token = token_for(world.b.caseworker)
    # membership, page (joins: sides, services, pathway and step with its service; the caller's
    # grants as EXISTS columns of the page), events of the page, the data keys of the page's
    # persons (the facts open the payloads; one query for the page); then one query for all the
    # page's services' locations, and one each for the steps and the links of the page's pathways
    for query, queries in ((INBOX, 4), (INBOX_ALONG_PATHWAYS, 5), (INBOX_WITH_PATHWAYS, 7)):
        for first in (1, 10, 50):
            with django_assert_num_queries(AUTH_QUERIES + queries):
                body = gql(None, query, {"first": first}, token=token)[1]
            edges = ok(body)["referralInbox"]["edges"]
            assert len(edges) == first
            assert all(edge["node"]["viewerCan"]["accept"] for edge in edges)
    nodes = [edge["node"] for edge in edges]
    followed = [node for node in nodes if node["pathwayStep"]]
    assert len(followed) == 25
    assert {
        (
            node["pathwayStep"]["key"],
            node["pathwayStep"]["service"]["name"],
            node["pathwayStep"]["service"]["organisation"]["acronym"],
            node["service"]["locations"][0]["name"],
            node["senderService"]["locations"][0]["name"],
            node["pathway"]["operationName"],
            len(node["pathway"]["steps"]),
            len(node["pathway"]["links"]),
        )
        for node in followed
    } == {
        (
            "gbv-b",
            "GBV case management B",
            "B",
            "Near GBV case management B",
            "Near Intake A",
            world.a.operation.name,
            2,
            1,
        )
    }
    assert all(
        node["pathway"] is None and node["senderService"] is None for node in nodes if node not in followed
    )


def test_payload_and_total_count_add_one_query_each(gql, world, django_assert_num_queries):
    for index in range(12):
        world.send(idempotency_key=f"k{index}")
    token = token_for(world.b.caseworker)
    query = INBOX.replace("edges { node {", "totalCount edges { node { payload { givenName }")
    for first in (1, 12):
        # the 4 of the inbox (with the data keys), the COUNT and the access-log insert
        with django_assert_num_queries(AUTH_QUERIES + 4 + 2):
            body = gql(None, query, {"first": first}, token=token)[1]
        assert ok(body)["referralInbox"]["totalCount"] == 12


# (state the referral must be in, who acts, exact queries). The common 16: membership, visibility,
# lock, the caller's grants (user and group), the data key of the referral's person (the facts
# open the payload; a note is then sealed with the same key), update + history + event, re-read
# (its grants in the same query) with events, and the savepoints of the operation and of the
# service. Decline and
# complete notify the referrer (+2),
# assign reads the caseworker's membership in the adapter and in the service (+2), withdraw revokes
# user and group grants and notifies (+4), and referOnward sends a whole new referral (consent
# checks, the grants in one insert per table). None of it may grow with the inbox.
MUTATION_COSTS = {
    # a transition that notifies: + the focal point lookup, the notice insert, its delivery job, the
    # recipient organisation's webhook endpoints
    "acknowledge": ("sent", "b.caseworker", 20),
    "accept": ("sent", "b.caseworker", 20),
    "decline": ("sent", "b.caseworker", 20),
    "complete": ("accepted", "b.caseworker", 20),
    "referOnward": ("accepted", "b.caseworker", 34),
    "assign": ("sent", "b.focal_point", 18),
    "withdraw": ("sent", "a.caseworker", 22),
    "close": ("completed", "a.caseworker", 16),
}


def test_the_cost_table_covers_every_mutation():
    fields = schema.graphql_schema.mutation_type.fields
    # the referral mutations (notifications, webhooks and the person's door have their own tests)
    others = ("Notification", "Webhook", "StatusCheck")
    mutations = [name for name in fields if not any(other in name for other in others)]
    assert len(MUTATION_COSTS) == len(mutations) == 8
    assert set(RECEIVING_ACTIONS) | set(SENDING_ACTIONS) == set(MUTATION_COSTS)


@pytest.mark.parametrize("others", [0, 6])
@pytest.mark.parametrize("action", list(MUTATION_COSTS))
def test_every_mutation_costs_the_same_however_many_referrals_exist(
    gql, action, others, django_assert_num_queries
):
    world = build_world()
    world.consent = consent_new_version(
        actor=world.a.caseworker, previous=world.consent, recipients=[world.b.id, world.c.id]
    )
    onward_service = ServiceFactory(
        organisation=world.c,
        category=world.service_b.category,
        required_fields=["given_name"],
        optional_fields=[],
    )
    state, actor, queries = MUTATION_COSTS[action]
    for index in range(others):  # the same state as the target, so each could be touched by mistake
        bring_to(world, state, key=f"other-{index}")
    referral = bring_to(world, state, key="target")
    org, role = actor.split(".")
    token = token_for(getattr(getattr(world, org), role))
    document, variables = mutation_for(action, world, onward_service)
    document = document.replace(
        "{ referral { id status }",
        "{ referral { id status service { name } senderOrganisation { name } lastEvent { kind }"
        " viewerCan { accept complete referOnward withdraw close } }",
    )
    with django_assert_num_queries(AUTH_QUERIES + queries):
        body = gql(None, document, {"id": gid("Referral", referral), **variables}, token=token)[1]
    result = ok(body)["m"]
    assert result["errors"] == [] and result["referral"]["id"] == gid("Referral", referral)


# The access log ---------------------------------------------------------------------------------


def test_a_page_of_payloads_writes_one_access_log_row_each_in_one_insert(gql, world):
    for index in range(10):
        world.send(idempotency_key=f"k{index}")
    query = "{ referralInbox(first: 10) { edges { node { payload { givenName phone } } } } }"
    token = token_for(world.b.caseworker)
    with CaptureQueriesContext(connection) as captured:
        body = gql(None, query, token=token)[1]
    assert len(ok(body)["referralInbox"]["edges"]) == 10
    inserts = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('INSERT INTO "referrals_accesslog"')
    ]
    assert len(inserts) == 1
    rows = AccessLog.objects.all()
    assert rows.count() == 10
    assert {(row.user_id, row.organisation_id, row.api, tuple(row.fields)) for row in rows} == {
        (world.b.caseworker.pk, world.b.id, "graphql", ("given_name", "phone"))
    }


def test_reading_without_the_payload_logs_nothing_and_one_referral_read_twice_logs_once(gql, world):
    referral = world.send()
    gql(world.b.caseworker, INBOX, {"first": 10})
    assert not AccessLog.objects.exists()
    query = """query ($id: ID!) {
        a: referral(id: $id) { payload { phone } } b: referral(id: $id) { payload { phone } } }"""
    ok(gql(world.b.caseworker, query, {"id": gid("Referral", referral)})[1])
    assert AccessLog.objects.filter(referral=referral).count() == 1


def test_an_erased_payload_is_null_and_not_logged(gql, world):
    from consent.services import consent_withdraw

    referral = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    consent_withdraw(
        actor=world.a.caseworker, record=world.consent, channel="in_person", reason="changed mind"
    )
    data = ok(gql(world.a.caseworker, REFERRAL, {"id": gid("Referral", referral)})[1])["referral"]
    # the names of what was shared stay (they are not the person's data); the values are gone
    assert data["payload"] is None and data["status"] == "WITHDRAWN"
    assert data["sharedFields"] == ["given_name", "phone"]
    assert not AccessLog.objects.exists()


def test_no_payload_leaves_when_its_access_log_cannot_be_written(gql, world, monkeypatch):
    world.send()

    def broken(**_kwargs):
        raise RuntimeError("access log unavailable")

    monkeypatch.setattr(services, "payload_read", broken)
    _status, body = gql(
        world.b.caseworker, "{ referralInbox(first: 5) { edges { node { payload { phone } } } } }"
    )
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["internal_error"]
    assert "+254700111222" not in str(body) and "access log unavailable" not in str(body)


# Limits apply to the inbox ----------------------------------------------------------------------


def test_limits_apply_to_the_inbox(gql, world, settings):
    user = world.b.caseworker
    body = gql(user, "{ referralInbox(first: 101) { edges { node { reference } } } }")[1]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["invalid_page_size"]
    settings.GRAPHQL_MAX_COST = 500
    body = gql(user, INBOX, {"first": 100})[1]
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["query_too_costly"]
    settings.GRAPHQL_MAX_DEPTH = 4
    deep = "{ referralInbox(first: 1) { edges { node { service { organisation { name } } } } } }"
    assert [e["extensions"]["code"] for e in gql(user, deep)[1]["errors"]] == ["query_too_deep"]
    no_first = gql(user, "{ referralInbox { edges { node { reference } } } }")[1]
    assert body.get("data") is None and "first" in no_first["errors"][0]["message"]


# The operations partners copy -------------------------------------------------------------------


def operation_files() -> list[str]:
    return sorted(path.name for path in OPERATIONS.glob("*.graphql"))


def operation_setup(name: str, world):
    """(user, variables) to run ``name`` against a fresh world, the referral in the state it needs."""
    b, a = world.b, world.a
    if name in ("refer-onward.graphql",):
        world.consent = consent_new_version(
            actor=a.caseworker, previous=world.consent, recipients=[b.id, world.c.id]
        )
    referral = world.send()
    rid = gid("Referral", referral)
    if name in ("complete.graphql", "refer-onward.graphql", "close.graphql"):
        services.referral_transition(actor=b.caseworker, referral=referral, action="accept")
    if name == "close.graphql":
        services.referral_transition(
            actor=b.caseworker, referral=referral, action="complete", outcome="service_provided"
        )
    if name == "refer-onward.graphql":
        onward = ServiceFactory(
            organisation=world.c,
            category=world.service_b.category,
            required_fields=["given_name"],
            optional_fields=[],
        )
        return b.caseworker, {"id": rid, "toService": gid("Service", onward), "idempotencyKey": "onward-1"}
    return {
        "inbox.graphql": (b.caseworker, {"first": 20}),
        "referral.graphql": (b.caseworker, {"id": rid}),
        "sent-referrals.graphql": (a.caseworker, {"first": 20}),
        "caseworkers.graphql": (b.focal_point, {}),
        "acknowledge.graphql": (b.caseworker, {"id": rid}),
        "accept.graphql": (b.caseworker, {"id": rid}),
        "decline.graphql": (
            b.caseworker,
            {"id": rid, "reason": "no_capacity", "note": "Full until next month"},
        ),
        "complete.graphql": (
            b.caseworker,
            {"id": rid, "outcome": "SERVICE_PROVIDED", "note": "Two sessions"},
        ),
        "assign.graphql": (
            b.focal_point,
            {"id": rid, "caseworker": caseworker_id(b.caseworker), "restrict": False},
        ),
        "withdraw.graphql": (a.caseworker, {"id": rid, "reason": "person_request"}),
        "close.graphql": (a.caseworker, {"id": rid}),
    }[name]


def test_the_operations_folder_holds_the_documented_operations():
    assert {
        "inbox.graphql",
        "accept.graphql",
        "decline.graphql",
        "complete.graphql",
        "refer-onward.graphql",
    } <= set(operation_files())


@pytest.mark.parametrize("name", operation_files())
def test_every_operation_file_runs_green(gql, name):
    world = build_world()
    user, variables = operation_setup(name, world)
    status, body = gql(user, (OPERATIONS / name).read_text(), variables)
    assert status == 200
    data = ok(body)
    for value in data.values():
        if isinstance(value, dict) and "errors" in value:
            assert value["errors"] == [], (name, value)
            assert value["referral"] is not None
        else:
            assert value, (name, data)
