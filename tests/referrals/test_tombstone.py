"""What is left of a referral after the sender withdraws it, and after the person withdraws consent.

The receiving side keeps a tombstone (reference, service, status, dates, events without notes) on
every surface — REST detail, list, events, FHIR; GraphQL referral, inbox, events — and no surface
carries anything of the person: every complete response body is scanned for each personal value and
each free-text note written along the way. After a consent withdrawal a completed referral keeps its
status and outcome code for both sides, while its payload and notes are gone.
"""

import json
import uuid

import pytest
from graphql_relay import to_global_id

from consent.services import consent_withdraw
from referrals import services
from referrals.models import AccessLog, ReferralEvent
from tests.referrals.api_helpers import gid, ok
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

BASE = "/api/v1/referrals"
REASON_NOTE = "Zarqa fears her cousin will find the shelter"
OUTCOME = "partially_provided"
NOTES = {
    "acknowledge": "called Zarqa back on her second phone",
    "accept": "intake at the Ifo clinic, tent 14B",
    "complete": "two sessions; her cousin came to the door once",
    "withdraw": "she moved to her sister in Kakuma town",
}
CONSENT_REASON = "asked over the hotline to stop all sharing"
PERSON = {
    "given_name": "Zarqa-Given",
    "family_name": "Oyelaran-Family",
    "phone": "+254799887766",
    "best_time_to_call": "after-evening-prayers",
    "protection_concerns": "threatened-by-cousin-Idris",
    "narrative": "long-narrative-only-the-holder-keeps",
}
SHARED = ["given_name", "family_name", "phone", "best_time_to_call", "protection_concerns", "narrative"]
OPTIONAL = [name for name in SHARED if name not in ("given_name", "phone")]

REFERRAL = """
query ($id: ID!) {
  referral(id: $id) {
    id reference status outcome outcomeNote reasonNote hasNote payloadErased sharedFields restricted
    createdAt dueBy
    service { id name } senderOrganisation { acronym }
    payload {
      givenName familyName phone bestTimeToCall preferredLanguage preferredChannel sex ageBand
      dateOfBirth location registrationNumber householdSize specificNeeds protectionConcerns narrative
    }
    assignedTo { username }
    viewerCan { acknowledge accept decline complete referOnward assign withdraw close }
    events { id kind note reasonCode fromStatus toStatus actorName }
    lastEvent { kind note }
  }
}
"""
LIST_NODE = """
    edges { node {
      id reference status outcome outcomeNote reasonNote hasNote sharedFields
      payload { givenName familyName phone bestTimeToCall protectionConcerns narrative }
      assignedTo { username }
      events { kind note reasonCode }
      lastEvent { kind note }
      viewerCan { acknowledge accept decline complete referOnward assign withdraw close }
    } }
"""
INBOX = "{ referralInbox(first: 50) {" + LIST_NODE + "} }"
SENT = "{ sentReferrals(first: 50) {" + LIST_NODE + "} }"
EVENT_NODE = "query ($id: ID!) { node(id: $id) { ... on ReferralEvent { kind note reasonCode } } }"


def tombstone_world():
    """The consent and the service cover every field the person has, and the note is the narrative."""
    world = build_world(data_categories=SHARED)
    world.service_b.optional_fields = OPTIONAL
    world.service_b.save()
    for name, value in PERSON.items():
        setattr(world.person, name, value)
    world.person.save()
    return world


def send_and_work(world, *, key: str, complete: bool = False):
    referral = world.send(reason_note=REASON_NOTE, optional_fields=OPTIONAL, idempotency_key=key)
    assert set(referral.shared_fields) == set(SHARED) and referral.note_shared
    referral = services.referral_assign(
        actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker
    )
    b = world.b.caseworker
    referral = services.referral_transition(
        actor=b, referral=referral, action="acknowledge", note=NOTES["acknowledge"]
    )
    referral = services.referral_transition(actor=b, referral=referral, action="accept", note=NOTES["accept"])
    if complete:
        referral = services.referral_transition(
            actor=b, referral=referral, action="complete", outcome=OUTCOME, note=NOTES["complete"]
        )
    return referral


def secrets() -> list[str]:
    values = [*PERSON.values(), REASON_NOTE, *NOTES.values(), CONSENT_REASON]
    values.append(PERSON["phone"].lstrip("+"))  # the number however it is written
    values += ["Zarqa", "Oyelaran", "Idris", "Kakuma", "tent 14B"]
    return values


def assert_nothing_personal(where: str, text: str) -> None:
    for value in secrets():
        assert value.lower() not in text.lower(), (where, value, text)


def every_answer(api, gql, user, referral, *, inbox: bool) -> dict[str, str]:
    """Every body the caller can get about ``referral``, complete, as text."""
    client = api(user)
    bodies = {}
    direction = "received" if inbox else "sent"
    for name, path in (
        ("rest detail", f"{BASE}/{referral.id}"),
        ("rest list", f"{BASE}?direction={direction}"),
        ("rest events", f"{BASE}/{referral.id}/events"),
        ("rest fhir", f"{BASE}/{referral.id}/fhir"),
        ("rest access log", f"{BASE}/{referral.id}/access-log"),
    ):
        response = client.get(path)
        assert response.status_code == 200, (name, response.content)
        bodies[name] = response.content.decode()
    status, body = gql(user, REFERRAL, {"id": gid("Referral", referral)})
    assert status == 200 and ok(body)["referral"] is not None
    bodies["graphql referral"] = json.dumps(body)
    status, body = gql(user, INBOX if inbox else SENT)
    assert status == 200
    ok(body)
    bodies["graphql list"] = json.dumps(body)
    for event in referral.events.all():
        status, body = gql(user, EVENT_NODE, {"id": gid("ReferralEvent", event)})
        assert ok(body)["node"] is not None
        bodies[f"graphql event {event.kind}"] = json.dumps(body)
    return bodies


def assert_rest_tombstone(body: dict, referral) -> None:
    assert body["side"] == "receiving"
    assert body["status"] == "withdrawn"
    assert body["reference"] == referral.reference
    assert body["to_service"]["id"] == str(referral.to_service_id)
    assert body["created_at"] and body["due_by"]
    assert body["payload"] is None and body["shared_fields"] == []
    assert body["reason_note"] is None and body["outcome_note"] is None
    assert body["has_note"] is False and body["note_shared"] is False
    assert body["assigned_to"] is None and body["allowed_actions"] == []
    assert body["person"] is None and body["consent"] is None


def assert_graphql_tombstone(data: dict, referral) -> None:
    assert data["status"] == "WITHDRAWN" and data["reference"] == referral.reference
    assert data["service"]["id"] == gid("Service", referral.to_service)
    assert data["createdAt"] and data["dueBy"]
    assert data["payload"] is None and data["sharedFields"] == []
    assert data["reasonNote"] is None and data["outcomeNote"] is None and data["hasNote"] is False
    assert data["assignedTo"] is None
    assert not any(data["viewerCan"].values())
    assert all(event["note"] is None for event in data["events"])


RECEIVERS = ("focal_point", "caseworker", "caseworker2", "viewer")


# After the sender withdraws ---------------------------------------------------------------------


def test_the_sender_withdrawal_leaves_the_receiver_a_tombstone_on_every_surface(api, gql):
    world = tombstone_world()
    referral = send_and_work(world, key="w-1")
    referral = services.referral_transition(
        actor=world.a.caseworker,
        referral=referral,
        action="withdraw",
        reason_code="other",
        note=NOTES["withdraw"],
    )
    kinds = ["sent", "assigned", "acknowledged", "accepted", "withdrawn"]
    logged = AccessLog.objects.count()
    for role in RECEIVERS:
        user = getattr(world.b, role)
        client = api(user)
        assert_rest_tombstone(client.get(f"{BASE}/{referral.id}").json(), referral)
        listed = client.get(BASE, {"direction": "received"}).json()["results"]
        assert [item["id"] for item in listed] == [str(referral.id)]
        assert_rest_tombstone(listed[0], referral)
        events = client.get(f"{BASE}/{referral.id}/events").json()
        assert [event["kind"] for event in events] == kinds
        assert all(event["note"] is None for event in events)
        assert events[-1]["reason_code"] == "other"

        data = ok(gql(user, REFERRAL, {"id": gid("Referral", referral)})[1])["referral"]
        assert_graphql_tombstone(data, referral)
        assert [event["kind"] for event in data["events"]] == [kind.upper() for kind in kinds]
        inbox = ok(gql(user, INBOX)[1])["referralInbox"]["edges"]
        assert [edge["node"]["reference"] for edge in inbox] == [referral.reference]
        assert inbox[0]["node"]["payload"] is None and inbox[0]["node"]["lastEvent"]["note"] is None

        for where, text in every_answer(api, gql, user, referral, inbox=True).items():
            assert_nothing_personal(f"{role}: {where}", text)

    # a tombstone shows no payload, so reading it is no read of the person's data
    assert AccessLog.objects.count() == logged
    # the sender withdrew, it did not erase: it still reads everything it sent and wrote
    sender = api(world.a.caseworker).get(f"{BASE}/{referral.id}").json()
    assert sender["payload"]["given_name"] == PERSON["given_name"]
    assert sender["reason_note"] == REASON_NOTE
    notes = [event["note"] for event in api(world.a.caseworker).get(f"{BASE}/{referral.id}/events").json()]
    assert NOTES["withdraw"] in notes and NOTES["accept"] in notes


def test_the_fhir_bundle_of_a_tombstone_is_cancelled_with_an_empty_patient(api):
    world = tombstone_world()
    referral = send_and_work(world, key="w-2")
    services.referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="sent_in_error"
    )
    bundle = api(world.b.caseworker).get(f"{BASE}/{referral.id}/fhir").json()
    found = {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}
    assert found["Task"]["status"] == "cancelled"
    assert found["Task"]["statusReason"]["coding"][0]["code"] == "sent_in_error"
    assert found["ServiceRequest"]["status"] == "revoked" and "note" not in found["ServiceRequest"]
    assert set(found["Patient"]) == {"resourceType", "id"}


def test_the_receiver_can_tell_a_withdrawn_referral_from_one_that_never_existed(api, gql):
    world = tombstone_world()
    referral = send_and_work(world, key="w-3")
    services.referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="person_request"
    )
    client = api(world.b.caseworker)
    tombstone = client.get(f"{BASE}/{referral.id}")
    assert tombstone.status_code == 200 and tombstone.json()["status"] == "withdrawn"
    never = uuid.uuid4()
    for suffix in ("", "/events", "/fhir"):
        missing = client.get(f"{BASE}/{never}{suffix}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "referral_not_found"
        assert client.get(f"{BASE}/{referral.id}{suffix}").status_code == 200
    data = ok(gql(world.b.caseworker, REFERRAL, {"id": gid("Referral", referral)})[1])
    assert data["referral"]["status"] == "WITHDRAWN"
    missing = ok(gql(world.b.caseworker, REFERRAL, {"id": to_global_id("Referral", str(never))})[1])
    assert missing == {"referral": None}
    # a tombstone is not a way in: the organisation that is no party still gets nothing
    assert api(world.c.caseworker).get(f"{BASE}/{referral.id}").status_code == 404
    assert ok(gql(world.c.caseworker, REFERRAL, {"id": gid("Referral", referral)})[1]) == {"referral": None}


# After the person withdraws consent -------------------------------------------------------------


@pytest.fixture
def withdrawn_consent():
    """One referral accepted and one completed on the same consent, then the consent withdrawn."""
    world = tombstone_world()
    open_one = send_and_work(world, key="c-open")
    completed = send_and_work(world, key="c-done", complete=True)
    world.consent = consent_withdraw(
        actor=world.a.caseworker, record=world.consent, channel="hotline", reason=CONSENT_REASON
    )
    open_one.refresh_from_db()
    completed.refresh_from_db()
    assert (open_one.status, completed.status) == ("withdrawn", "completed")
    return world, open_one, completed


def test_after_consent_withdrawal_no_surface_of_either_side_carries_the_person(api, gql, withdrawn_consent):
    world, open_one, completed = withdrawn_consent
    stored = ReferralEvent.objects.filter(referral__in=[open_one, completed])
    assert stored.count() == 12 and all(not event.note for event in stored)  # erased where they are kept
    for organisation, roles, inbox in (("b", RECEIVERS, True), ("a", ("caseworker", "viewer"), False)):
        for role in roles:
            user = getattr(getattr(world, organisation), role)
            for referral in (open_one, completed):
                for where, text in every_answer(api, gql, user, referral, inbox=inbox).items():
                    assert_nothing_personal(f"{organisation}.{role} {referral.status}: {where}", text)
    assert not AccessLog.objects.filter(at__gte=world.consent.withdrawn_at).exists()  # nothing was shown


def test_after_consent_withdrawal_the_open_referral_is_a_tombstone_for_the_receiver(
    api, gql, withdrawn_consent
):
    world, open_one, _completed = withdrawn_consent
    kinds = ["sent", "assigned", "acknowledged", "accepted", "consent_withdrawn", "payload_erased"]
    for role in RECEIVERS:
        user = getattr(world.b, role)
        body = api(user).get(f"{BASE}/{open_one.id}").json()
        assert_rest_tombstone(body, open_one)
        assert body["payload_erased_at"] is not None
        events = api(user).get(f"{BASE}/{open_one.id}/events").json()
        assert [event["kind"] for event in events] == kinds
        assert all(event["note"] is None for event in events)
        data = ok(gql(user, REFERRAL, {"id": gid("Referral", open_one)})[1])["referral"]
        assert_graphql_tombstone(data, open_one)
        assert data["payloadErased"] is True
    # the sender is not shown a tombstone, but the data is gone for it too
    sender = api(world.a.caseworker).get(f"{BASE}/{open_one.id}").json()
    assert sender["status"] == "withdrawn" and sender["side"] == "sending"
    assert sender["payload"] is None and sender["reason_note"] is None
    assert sender["shared_fields"] == SHARED and sender["allowed_actions"] == []


def test_after_consent_withdrawal_a_completed_referral_keeps_its_outcome_code_for_both_sides(
    api, gql, withdrawn_consent
):
    world, _open_one, completed = withdrawn_consent
    callers = [("b", role) for role in RECEIVERS] + [("a", "caseworker"), ("a", "viewer")]
    for organisation, role in callers:
        user = getattr(getattr(world, organisation), role)
        where = (organisation, role)
        client = api(user)
        body = client.get(f"{BASE}/{completed.id}").json()
        assert body["status"] == "completed" and body["outcome"] == OUTCOME, where
        assert body["outcome_note"] is None and body["payload"] is None and body["reason_note"] is None, where
        assert body["shared_fields"] == SHARED and body["payload_erased_at"] is not None, where
        listed = client.get(BASE, {"direction": "received" if organisation == "b" else "sent"}).json()
        row = next(item for item in listed["results"] if item["id"] == str(completed.id))
        assert (row["status"], row["outcome"], row["outcome_note"], row["payload"]) == (
            "completed",
            OUTCOME,
            None,
            None,
        ), where
        events = client.get(f"{BASE}/{completed.id}/events").json()
        done = next(event for event in events if event["kind"] == "completed")
        assert done["reason_code"] == OUTCOME and done["note"] is None, where
        task = next(
            entry["resource"]
            for entry in client.get(f"{BASE}/{completed.id}/fhir").json()["entry"]
            if entry["resource"]["resourceType"] == "Task"
        )
        assert task["status"] == "completed"
        assert task["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == OUTCOME, where

        data = ok(gql(user, REFERRAL, {"id": gid("Referral", completed)})[1])["referral"]
        assert (data["status"], data["outcome"], data["outcomeNote"]) == (
            "COMPLETED",
            OUTCOME.upper(),
            None,
        ), where
        assert data["payload"] is None and data["reasonNote"] is None and data["payloadErased"] is True
        assert all(event["note"] is None for event in data["events"]), where
    # the loop can still be closed by the sender: closing needs no personal data
    assert "close" in api(world.a.caseworker).get(f"{BASE}/{completed.id}").json()["allowed_actions"]


def test_a_tombstone_is_nobodys_assigned_to_me(api, gql):
    world = build_world()
    referral = world.send(idempotency_key="mine")
    services.referral_assign(actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker)
    client = api(world.b.caseworker)
    assert [
        r["reference"] for r in client.get("/api/v1/referrals?assigned_to_me=true").json()["results"]
    ] == [referral.reference]
    services.referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="other", note="x"
    )
    assert client.get("/api/v1/referrals?assigned_to_me=true").json()["results"] == []
    body = gql(
        world.b.caseworker, "{ referralInbox(first: 5, assignedToMe: true) { edges { node { id } } } }"
    )[1]
    assert ok(body)["referralInbox"]["edges"] == []
    # still in the inbox, as a tombstone
    assert [r["status"] for r in client.get("/api/v1/referrals?direction=received").json()["results"]] == [
        "withdrawn"
    ]
