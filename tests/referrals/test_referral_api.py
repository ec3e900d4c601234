"""The referral REST API through real HTTP: sides, the cross-organisation matrix, transitions,
filters, idempotency, the access log, FHIR, information given and query counts."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referrals import services
from referrals.models import AccessLog, InformationGiven, Referral
from tests.factories import ConsentRecordFactory, PersonFactory, ServiceFactory
from tests.referrals.expected_matrix import STATE_CHANGES
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

BASE = "/api/v1/referrals"


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def referral(world):
    return world.send(reason_note="she fears for her safety")


def url(referral, suffix: str = "") -> str:
    return f"{BASE}/{referral.id}" + (f"/{suffix}" if suffix else "")


def create_body(world, **changes) -> dict:
    body = {
        "person": str(world.person.id),
        "consent": str(world.consent.id),
        "to_service": str(world.service_b.id),
        "urgency": "urgent",
        "reason_note": "she fears for her safety",
        "optional_fields": ["best_time_to_call"],
    }
    body.update(changes)
    return body


def error(response) -> dict:
    return response.json()["error"]


# Sending -----------------------------------------------------------------------------------


def test_create_sends_and_shows_the_sender_everything_it_holds(world, api):
    response = api(world.a.caseworker).post(BASE, create_body(world, idempotency_key="k1"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    referral = Referral.objects.get()
    assert body["id"] == str(referral.id)
    assert body["side"] == "sending"
    assert body["status"] == "sent"
    assert body["urgency"] == "urgent"
    assert body["person"] == str(world.person.id)
    assert body["consent"] == str(world.consent.id)
    assert body["reason_note"] == "she fears for her safety"
    assert body["has_note"] is True and body["note_shared"] is False
    assert body["payload"] == {
        "given_name": "Amal",
        "phone": "+254700111222",
        "best_time_to_call": "mornings",
    }
    assert body["to_service"]["id"] == str(world.service_b.id)
    assert body["to_organisation"]["acronym"] == "B"


def test_idempotency_key_header_repeats_answer_200_with_the_same_referral(world, api):
    client = api(world.a.caseworker)
    first = client.post(BASE, create_body(world), format="json", HTTP_IDEMPOTENCY_KEY="form-123")
    again = client.post(
        BASE, create_body(world, urgency="emergency"), format="json", HTTP_IDEMPOTENCY_KEY="form-123"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Referral.objects.count() == 1
    assert Referral.objects.get().idempotency_key == "form-123"


def test_header_and_body_keys_that_differ_are_refused(world, api):
    response = api(world.a.caseworker).post(
        BASE, create_body(world, idempotency_key="one"), format="json", HTTP_IDEMPOTENCY_KEY="two"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "idempotency_key_mismatch"
    assert list(error(response)["fields"]) == ["idempotency_key"]
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({}, 400, "idempotency_key"),  # no key in body or header
        ({"idempotency_key": "k", "urgency": "soon"}, 400, "urgency"),
        ({"idempotency_key": "k", "person": "not-a-uuid"}, 400, "person"),
        ({"idempotency_key": "k", "colour": "blue"}, 400, "colour"),
        ({"idempotency_key": "k", "optional_fields": ["registration_number"]}, 400, "optional_fields"),
        ({"idempotency_key": "k", "to_service": "00000000-0000-0000-0000-000000000000"}, 404, "to_service"),
        (
            {"idempotency_key": "k", "pathway_link": "00000000-0000-0000-0000-000000000000"},
            404,
            "pathway_link",
        ),
    ],
)
def test_bad_input_names_the_field(world, api, changes, status, field):
    response = api(world.a.caseworker).post(BASE, create_body(world, **changes), format="json")
    assert response.status_code == status, response.json()
    assert field in error(response)["fields"]
    assert not Referral.objects.exists()


def test_another_organisations_person_and_consent_are_not_found(world, api):
    body = create_body(world, idempotency_key="k")
    response = api(world.c.caseworker).post(BASE, body, format="json")
    assert response.status_code == 404
    assert error(response)["fields"] == {"person": ["No such person."]}


def test_consent_not_covering_a_required_field_is_refused_naming_it(world, api):
    world.service_b.required_fields = ["given_name", "phone", "protection_concerns"]
    world.service_b.save()
    response = api(world.a.caseworker).post(BASE, create_body(world, idempotency_key="k"), format="json")
    assert response.status_code == 400
    assert error(response)["code"] == "consent_not_covering_field"
    assert "protection_concerns" in error(response)["message"]
    assert error(response)["missing_fields"] == ["protection_concerns"]


def test_viewer_cannot_send(world, api):
    response = api(world.a.viewer).post(BASE, create_body(world, idempotency_key="k"), format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "role_cannot_act"


# What each side sees -----------------------------------------------------------------------


def test_receiving_side_sees_the_payload_but_nothing_else_of_the_person(world, referral, api):
    response = api(world.b.caseworker).get(url(referral))
    assert response.status_code == 200
    body = response.json()
    assert body["side"] == "receiving"
    assert body["payload"] == {"given_name": "Amal", "phone": "+254700111222"}
    assert body["has_note"] is True
    assert body["reason_note"] is None and body["person"] is None and body["consent"] is None
    text = response.content.decode()
    for held_by_a in (str(world.person.id), str(world.consent.id), "neighbour", "narrative held", "safety"):
        assert held_by_a not in text


def test_receiving_side_reads_the_note_when_the_consent_covers_the_narrative(api):
    world = build_world(data_categories=["given_name", "phone", "narrative"])
    referral = world.send(reason_note="she fears for her safety", optional_fields=["narrative"])
    body = api(world.b.caseworker).get(url(referral)).json()
    assert body["note_shared"] is True
    assert body["reason_note"] == "she fears for her safety"
    assert body["payload"]["narrative"] == "she fears for her safety"


# Not allowed looks exactly like not found ---------------------------------------------------

REQUESTS = [
    ("get", ""),
    ("get", "events"),
    ("get", "access-log"),
    ("get", "fhir"),
    ("post", "acknowledge"),
    ("post", "accept"),
    ("post", "decline"),
    ("post", "complete"),
    ("post", "close"),
    ("post", "withdraw"),
    ("post", "assign"),
    ("post", "refer-onward"),
]
VALID_BODIES = {
    "decline": {"reason": "no_capacity"},
    "complete": {"outcome": "service_provided"},
    "withdraw": {"reason": "person_request"},
    "refer-onward": {"to_service": None, "idempotency_key": "onward"},  # filled in below
}


def _request(client, world, referral, method, suffix):
    body = dict(VALID_BODIES.get(suffix, {}))
    if suffix == "assign":
        body = {"caseworker": world.b.caseworker.username, "restrict": True}
    if suffix == "refer-onward":
        body["to_service"] = str(world.service_b.id)
    if method == "get":
        return client.get(url(referral, suffix))
    return client.post(url(referral, suffix), body, format="json")


def _assert_not_found_everywhere(client, world, referral):
    for method, suffix in REQUESTS:
        response = _request(client, world, referral, method, suffix)
        assert response.status_code == 404, (suffix, response.content)
        assert error(response) == {"code": "referral_not_found", "message": "No such referral.", "fields": {}}
        assert referral.reference not in response.content.decode()


@pytest.mark.parametrize("role", ["focal_point", "caseworker", "viewer"])
def test_organisation_that_is_not_a_party_gets_404_everywhere(world, referral, api, role):
    _assert_not_found_everywhere(api(getattr(world.c, role)), world, referral)
    referral.refresh_from_db()
    assert referral.status == "sent" and referral.assigned_to is None
    assert list(referral.events.values_list("kind", flat=True)) == ["sent"]
    assert not AccessLog.objects.exists()


def test_caseworker_restricted_out_of_a_referral_gets_404_everywhere(world, referral, api):
    services.referral_assign(
        actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker, restrict=True
    )
    _assert_not_found_everywhere(api(world.b.caseworker2), world, referral)
    assert not AccessLog.objects.exists()
    assert api(world.b.caseworker).get(url(referral)).status_code == 200


def test_a_referral_that_does_not_exist_answers_the_same_404(world, api):
    response = api(world.c.caseworker).get(f"{BASE}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert error(response)["code"] == "referral_not_found"


# The role, organisation and action matrix on a sent referral: 200, wrong side, illegal state,
# viewers, not a party.
ACTIONS = ["acknowledge", "accept", "decline", "complete", "close", "withdraw"]
RECEIVING_ACTIONS = {"acknowledge", "accept", "decline", "complete"}
LEGAL_FROM_SENT = {"acknowledge", "accept", "decline", "withdraw"}


def _expected(organisation: str, role: str, action: str) -> tuple[int, str | None]:
    if organisation == "c":
        return 404, "referral_not_found"
    if role == "viewer":
        return 403, "role_cannot_act"
    receiving = organisation == "b"
    if receiving != (action in RECEIVING_ACTIONS):
        return 403, "wrong_side"
    if action not in LEGAL_FROM_SENT:
        return 409, "invalid_transition"
    return 200, None


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ["focal_point", "caseworker", "viewer"])
@pytest.mark.parametrize("organisation", ["a", "b", "c"])
def test_transition_matrix(world, referral, api, organisation, role, action):
    actor = getattr(getattr(world, organisation), role)
    response = api(actor).post(url(referral, action), VALID_BODIES.get(action, {}), format="json")
    status, code = _expected(organisation, role, action)
    assert response.status_code == status, response.json()
    referral.refresh_from_db()
    if status == 200:
        _sources, target, _side, event = STATE_CHANGES[action]
        assert response.json()["status"] == referral.status == target
        assert referral.events.filter(kind=event, actor=actor).count() == 1
    else:
        assert error(response)["code"] == code
        assert referral.status == "sent"


# Transitions through HTTP ------------------------------------------------------------------


def test_closed_loop_through_http(world, referral, api):
    b, a = api(world.b.caseworker), api(world.a.caseworker)
    assert b.post(url(referral, "acknowledge")).status_code == 200
    assert (
        b.post(url(referral, "accept"), {"note": "first appointment Monday"}, format="json").status_code
        == 200
    )
    response = b.post(url(referral, "complete"), {"note": "seen twice"}, format="json")
    assert response.status_code == 400 and "outcome" in error(response)["fields"]
    response = b.post(url(referral, "complete"), {"outcome": "partially_provided"}, format="json")
    assert response.status_code == 200
    seen_by_sender = a.get(url(referral)).json()
    assert seen_by_sender["status"] == "completed" and seen_by_sender["outcome"] == "partially_provided"
    assert a.post(url(referral, "close")).status_code == 200
    response = b.post(url(referral, "accept"))
    assert response.status_code == 409 and error(response)["code"] == "invalid_transition"
    assert error(response)["message"] == (
        "Cannot accept a referral that is closed (allowed from: sent, acknowledged)."
    )
    events = a.get(url(referral, "events")).json()
    assert [e["kind"] for e in events] == ["sent", "acknowledged", "accepted", "completed", "closed"]
    assert events[2]["note"] == "first appointment Monday"
    assert events[3]["reason_code"] == "partially_provided"
    assert events[1]["organisation"]["acronym"] == "B" and events[1]["actor"] == world.b.caseworker.username


def test_decline_needs_a_reason_and_the_sender_sees_it(world, referral, api):
    b = api(world.b.caseworker)
    response = b.post(url(referral, "decline"), {}, format="json")
    assert response.status_code == 400
    assert error(response)["code"] == "reason_required" and "reason" in error(response)["fields"]
    response = b.post(url(referral, "decline"), {"reason": "other"}, format="json")
    assert response.status_code == 400 and "note" in error(response)["fields"]
    response = b.post(url(referral, "decline"), {"reason": "no_capacity", "note": "full"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    events = api(world.a.caseworker).get(url(referral, "events")).json()
    assert events[-1]["kind"] == "declined" and events[-1]["reason_code"] == "no_capacity"


def test_withdrawal_by_the_sender_shuts_the_receiver_out(world, referral, api):
    response = api(world.b.caseworker).post(
        url(referral, "withdraw"), {"reason": "person_request"}, format="json"
    )
    assert response.status_code == 403 and error(response)["code"] == "wrong_side"
    response = api(world.a.caseworker).post(
        url(referral, "withdraw"), {"reason": "person_request"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    # the receiver keeps a tombstone: the referral is there, withdrawn, with nothing of the person
    tombstone = api(world.b.caseworker).get(url(referral)).json()
    assert tombstone["status"] == "withdrawn" and tombstone["reference"] == referral.reference
    assert (tombstone["payload"], tombstone["shared_fields"], tombstone["reason_note"]) == (None, [], None)
    assert tombstone["allowed_actions"] == []
    response = api(world.b.caseworker).post(url(referral, "accept"), {}, format="json")
    assert response.status_code == 409 and error(response)["code"] == "invalid_transition"
    events = api(world.b.focal_point).get(url(referral, "events")).json()
    assert [event["kind"] for event in events] == ["sent", "withdrawn"]
    assert all(event["note"] is None for event in events)
    assert api(world.c.caseworker).get(url(referral)).status_code == 404


def test_receiving_focal_point_assigns_and_restricts(world, referral, api):
    response = api(world.b.caseworker).post(
        url(referral, "assign"), {"caseworker": world.b.caseworker2.username}, format="json"
    )
    assert response.status_code == 403 and error(response)["code"] == "focal_point_required"
    for username in ("nobody-by-that-name", world.c.caseworker.username):
        response = api(world.b.focal_point).post(
            url(referral, "assign"), {"caseworker": username}, format="json"
        )
        assert response.status_code == 400 and "caseworker" in error(response)["fields"]
    response = api(world.b.focal_point).post(
        url(referral, "assign"), {"caseworker": world.b.caseworker.username, "restrict": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["assigned_to"] == world.b.caseworker.username and response.json()["restricted"]
    assert api(world.b.caseworker2).get(url(referral)).status_code == 404
    assert api(world.b.caseworker).post(url(referral, "accept")).status_code == 200


def onward_world(optional_fields=("best_time_to_call",)):
    """B accepted A's referral and can refer onward to C, whom the consent also names."""
    world = build_world()
    world.consent = ConsentRecordFactory(
        person=world.person,
        obtained_by=world.a.caseworker,
        recipient_scope="named",
        recipients=[world.b.id, world.c.id],
        purposes=["gbv_case_management"],
        data_categories=["given_name", "phone", "best_time_to_call"],
    )
    world.service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, name="GBV C", required_fields=["given_name"]
    )
    world.parent = world.send(optional_fields=list(optional_fields))
    services.referral_transition(actor=world.b.caseworker, referral=world.parent, action="accept")
    return world


def test_refer_onward_creates_a_child_once_per_key(api):
    world = onward_world()
    client = api(world.b.caseworker)
    body = {"to_service": str(world.service_c.id), "reason_note": "needs a safe shelter"}
    first = client.post(url(world.parent, "refer-onward"), body, format="json", HTTP_IDEMPOTENCY_KEY="on-1")
    again = client.post(url(world.parent, "refer-onward"), body, format="json", HTTP_IDEMPOTENCY_KEY="on-1")
    assert (first.status_code, again.status_code) == (201, 200), first.json()
    assert first.json()["id"] == again.json()["id"]
    child = first.json()
    # B sent the child but does not hold the person: no person or consent id for B either
    assert child["side"] == "sending" and child["parent"] == str(world.parent.id)
    assert child["person"] is None and child["consent"] is None
    assert child["payload"] == {"given_name": "Amal"}
    seen_by_c = api(world.c.caseworker).get(f"{BASE}/{child['id']}").json()
    assert seen_by_c["side"] == "receiving" and seen_by_c["parent"] is None
    assert seen_by_c["reason_note"] is None
    assert api(world.c.caseworker).get(url(world.parent)).status_code == 404


def test_refer_onward_cannot_pass_on_what_the_referral_did_not_carry(api):
    world = onward_world(optional_fields=())
    service = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["best_time_to_call"]
    )
    body = {"to_service": str(service.id), "idempotency_key": "x"}
    response = api(world.b.caseworker).post(url(world.parent, "refer-onward"), body, format="json")
    assert response.status_code == 400, response.json()
    assert error(response)["code"] == "field_not_available"
    assert error(response)["missing_fields"] == ["best_time_to_call"]


def test_refer_onward_is_for_the_receiving_side_of_an_accepted_referral(api):
    world = onward_world()
    body = {"to_service": str(world.service_c.id), "idempotency_key": "x"}
    response = api(world.a.caseworker).post(url(world.parent, "refer-onward"), body, format="json")
    assert response.status_code == 403 and error(response)["code"] == "wrong_side"
    response = api(world.b.caseworker).post(
        url(world.parent, "refer-onward"), {"idempotency_key": "x"}, format="json"
    )
    assert response.status_code == 400 and "to_service" in error(response)["fields"]


# Lists and filters -------------------------------------------------------------------------


def received_by_a(world):
    """A referral B sends to A, so that A has one in each direction."""
    person = PersonFactory(organisation=world.b, given_name="Bisi")
    consent = ConsentRecordFactory(
        person=person,
        obtained_by=world.b.caseworker,
        recipient_scope="named",
        recipients=[world.a.id],
        purposes=["gbv_case_management"],
    )
    service_a = ServiceFactory(
        organisation=world.a, category=world.service_b.category, required_fields=["given_name"]
    )
    return services.referral_send(
        actor=world.b.caseworker, person=person, consent=consent, to_service=service_a, idempotency_key="b-1"
    )


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_list_filters(world, api):
    normal = world.send()
    emergency = world.send(urgency="emergency")
    accepted = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=accepted, action="accept")
    incoming = received_by_a(world)
    # test setup only: put one awaiting referral past its due date
    Referral.objects.filter(pk=normal.pk).update(due_by=timezone.now() - timedelta(hours=1))
    client = api(world.a.caseworker)

    assert ids(client.get(BASE)) == [str(r.id) for r in (incoming, accepted, emergency, normal)]
    assert ids(client.get(BASE, {"status": "accepted"})) == [str(accepted.id)]
    assert ids(client.get(BASE, {"urgency": "emergency"})) == [str(emergency.id)]
    assert ids(client.get(BASE, {"service": str(incoming.to_service_id)})) == [str(incoming.id)]
    assert ids(client.get(BASE, {"overdue": "true"})) == [str(normal.id)]
    assert str(normal.id) not in ids(client.get(BASE, {"overdue": "false"}))
    assert ids(client.get(BASE, {"direction": "received"})) == [str(incoming.id)]
    assert str(incoming.id) not in ids(client.get(BASE, {"direction": "sent"}))
    assert ids(client.get(BASE, {"search": emergency.reference[2:7].lower()})) == [str(emergency.id)]
    page = client.get(BASE, {"limit": 2, "offset": 1}).json()
    assert page["count"] == 4 and [r["id"] for r in page["results"]] == [str(accepted.id), str(emergency.id)]
    # B sees the three from A and the one it sent; C sees none
    assert len(ids(api(world.b.caseworker).get(BASE))) == 4
    assert ids(api(world.c.caseworker).get(BASE)) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"service": "not-a-uuid"}, "service"),
        ({"direction": "up"}, "direction"),
    ],
)
def test_bad_filter_values_name_the_parameter(world, api, params, field):
    response = api(world.a.caseworker).get(BASE, params)
    assert response.status_code == 400 and field in error(response)["fields"]


# The access log ----------------------------------------------------------------------------


def _access_log_inserts(queries) -> int:
    return sum('INSERT INTO "referrals_accesslog"' in query["sql"] for query in queries)


def test_every_payload_read_is_logged_once_per_request(world, api):
    sent = [world.send() for _ in range(3)]
    client = api(world.b.caseworker)
    with CaptureQueriesContext(connection) as queries:
        assert len(ids(client.get(BASE))) == 3
    assert _access_log_inserts(queries.captured_queries) == 1
    rows = AccessLog.objects.filter(user=world.b.caseworker)
    assert rows.count() == 3 and set(rows.values_list("api", flat=True)) == {"rest"}
    assert set(rows.values_list("organisation", flat=True)) == {world.b.id}
    assert rows.filter(referral=sent[0]).get().fields == ["given_name", "phone"]

    assert client.get(url(sent[0])).status_code == 200
    assert client.get(url(sent[0], "fhir")).status_code == 200
    assert AccessLog.objects.filter(referral=sent[0]).count() == 3
    # neither events nor the access log itself carry the payload
    client.get(url(sent[0], "events"))
    client.get(url(sent[0], "access-log"))
    assert AccessLog.objects.filter(referral=sent[0]).count() == 3


def test_referrer_sees_who_at_the_receiving_organisation_read_the_payload(world, referral, api):
    api(world.b.caseworker).get(url(referral))
    api(world.b.focal_point).get(url(referral))
    response = api(world.a.caseworker).get(url(referral, "access-log"))
    assert response.status_code == 200
    entries = response.json()["results"]
    assert [e["user"] for e in entries] == [world.b.focal_point.username, world.b.caseworker.username]
    assert entries[0]["organisation"]["acronym"] == "B" and entries[0]["fields"] == ["given_name", "phone"]
    # the receiving side sees it too (accountability within the referral's two parties)
    assert api(world.b.caseworker2).get(url(referral, "access-log")).json()["count"] == 2


# Query counts ------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_the_page(world, api, django_assert_num_queries):
    for _ in range(6):
        world.send(optional_fields=["best_time_to_call"])
    client = api(world.b.caseworker)
    # token and the token owner's expired tokens (knox), membership, count, the merged ids of both
    # sides, their rows, one log insert, and one for the data keys that open the page's payloads
    # (one query for the whole page)
    for limit in (2, 5):
        with django_assert_num_queries(8):
            assert len(ids(client.get(BASE, {"limit": limit}))) == limit


# FHIR --------------------------------------------------------------------------------------


def fhir(client, referral) -> dict:
    response = client.get(url(referral, "fhir"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def resources(bundle) -> dict:
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}


def test_fhir_bundle_has_the_required_elements(world, api):
    referral = world.send(optional_fields=["best_time_to_call"], urgency="urgent")
    bundle = fhir(api(world.b.caseworker), referral)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert all(entry["fullUrl"].startswith("urn:uuid:") for entry in bundle["entry"])
    found = resources(bundle)
    request, task, patient = found["ServiceRequest"], found["Task"], found["Patient"]
    full_urls = {entry["resource"]["resourceType"]: entry["fullUrl"] for entry in bundle["entry"]}
    # ServiceRequest: status, intent and subject are required (1..1)
    assert request["status"] == "active" and request["intent"] == "order"
    assert request["subject"] == {"reference": full_urls["Patient"]}
    assert request["priority"] == "urgent"
    # the receiving side gets a consent id of this referral only: it cannot link referrals by it
    assert request["supportingInfo"] == [
        {"reference": f"Consent/{uuid.uuid5(referral.id, 'consent')}", "type": "Consent"}
    ]
    held = resources(fhir(api(world.a.caseworker), referral))["ServiceRequest"]
    assert held["supportingInfo"] == [{"reference": f"Consent/{world.consent.id}", "type": "Consent"}]
    assert request["identifier"][0]["value"] == referral.reference
    assert request["requester"]["reference"] == f"Organization/{world.a.id}"
    assert request["performer"] == [{"reference": f"Organization/{world.b.id}", "display": world.b.name}]
    # Task: status and intent are required
    assert task["status"] == "requested" and task["intent"] == "order"
    assert task["basedOn"] == [{"reference": full_urls["ServiceRequest"]}]
    assert task["for"] == {"reference": full_urls["Patient"]}
    assert task["owner"]["reference"] == f"Organization/{world.b.id}"
    # the Patient is the payload and nothing more
    assert patient["name"] == [{"given": ["Amal"]}]
    assert patient["telecom"] == [{"system": "phone", "value": "+254700111222"}]
    assert patient["extension"] == [
        {
            "url": "https://referral-hub.example.org/fhir/StructureDefinition/person-best-time-to-call",
            "valueString": "mornings",
        }
    ]
    assert set(patient) == {"resourceType", "id", "name", "telecom", "extension"}
    text = json.dumps(bundle)
    for held_by_a in (str(world.person.id), "neighbour", "narrative held", "Demo"):
        assert held_by_a not in text


@pytest.mark.parametrize(
    ("steps", "task_status", "reason"),
    [
        ([], "requested", None),
        ([("b", "acknowledge", {})], "received", None),
        ([("b", "accept", {})], "accepted", None),
        ([("b", "decline", {"reason_code": "outside_area"})], "rejected", "outside_area"),
        ([("b", "accept", {}), ("b", "complete", {"outcome": "not_provided"})], "completed", None),
        (
            [("b", "accept", {}), ("b", "complete", {"outcome": "service_provided"}), ("a", "close", {})],
            "completed",
            None,
        ),
        ([("a", "withdraw", {"reason_code": "sent_in_error"})], "cancelled", "sent_in_error"),
    ],
)
def test_fhir_task_status_follows_ours(world, referral, api, steps, task_status, reason):
    for side, action, arguments in steps:
        actor = getattr(world, side).caseworker
        services.referral_transition(actor=actor, referral=referral, action=action, **arguments)
    task = resources(fhir(api(world.a.caseworker), referral))["Task"]
    assert task["status"] == task_status
    assert task["businessStatus"]["coding"][0]["code"] == Referral.objects.get().status
    if reason:
        assert task["statusReason"]["coding"][0]["code"] == reason
    else:
        assert "statusReason" not in task
    if Referral.objects.get().outcome:
        assert (
            task["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == Referral.objects.get().outcome
        )


def test_fhir_carries_the_note_only_when_it_was_shared(api):
    world = build_world(data_categories=["given_name", "phone", "narrative"])
    referral = world.send(reason_note="she fears for her safety", optional_fields=["narrative"])
    request = resources(fhir(api(world.b.caseworker), referral))["ServiceRequest"]
    assert request["note"] == [{"text": "she fears for her safety"}]


def test_fhir_leaves_out_a_note_that_was_not_shared(world, api):
    referral = world.send(reason_note="she fears for her safety")
    # not even the sender's own copy: the bundle is the payload only
    assert "note" not in resources(fhir(api(world.a.caseworker), referral))["ServiceRequest"]


# Information given -------------------------------------------------------------------------


def test_information_given_is_counted_without_personal_data(world, api):
    response = api(world.a.caseworker).post(
        "/api/v1/information-given", {"service": str(world.service_b.id), "channel": "hotline"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"id", "service", "channel", "organisation", "at"}
    record = InformationGiven.objects.get()
    assert (record.service, record.channel, record.organisation) == (world.service_b, "hotline", world.a)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"channel": "hotline"}, 400, "service"),
        ({"service": "00000000-0000-0000-0000-000000000000", "channel": "hotline"}, 404, "service"),
        ({"service": None, "channel": "pigeon"}, 400, "channel"),
        ({"service": None, "channel": "hotline", "name": "Amal"}, 400, "name"),
    ],
)
def test_information_given_bad_input_names_the_field(world, api, body, status, field):
    body = {
        key: (str(world.service_b.id) if key == "service" and value is None else value)
        for key, value in body.items()
    }
    response = api(world.a.caseworker).post("/api/v1/information-given", body, format="json")
    assert response.status_code == status and field in error(response)["fields"]
    assert not InformationGiven.objects.exists()


def test_viewers_do_not_record_information_given(world, api):
    body = {"service": str(world.service_b.id), "channel": "hotline"}
    response = api(world.a.viewer).post("/api/v1/information-given", body, format="json")
    assert response.status_code == 403


def test_information_given_counts_are_per_organisation_service_and_channel(world, api):
    for channel in ("hotline", "hotline", "phone"):
        services.information_given(actor=world.a.caseworker, service=world.service_b, channel=channel)
    services.information_given(actor=world.c.caseworker, service=world.service_b, channel="hotline")
    body = api(world.a.focal_point).get("/api/v1/information-given").json()
    assert [(row["channel"], row["count"]) for row in body] == [("hotline", 2), ("phone", 1)]
    assert {row["service_name"] for row in body} == {world.service_b.name}
    assert api(world.a.focal_point).get("/api/v1/information-given", {"since": "2999-01-01"}).json() == []
    bad = api(world.a.focal_point).get("/api/v1/information-given", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()["error"]["fields"]


def test_a_bad_or_doubled_cursor_is_a_400_naming_after(world, api):
    world.send(idempotency_key="k1")
    world.send(idempotency_key="k2")
    client = api(world.b.caseworker)
    forged = client.get(BASE, {"after": "not-a-cursor"})
    assert forged.status_code == 400
    assert error(forged)["code"] == "invalid_cursor" and "after" in error(forged)["fields"]
    next_link = client.get(BASE, {"limit": 1}).json()["next"]
    after = next_link.split("after=")[1].split("&")[0]
    both = client.get(BASE, {"after": after, "offset": 1})
    assert both.status_code == 400
    assert error(both)["code"] == "invalid_parameter" and "after" in error(both)["fields"]
    assert len(client.get(BASE, {"after": after}).json()["results"]) == 1
