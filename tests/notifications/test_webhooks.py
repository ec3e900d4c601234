"""Partner webhooks against a real receiver on 127.0.0.1: Standard Webhooks signatures checked
independently, retries and their schedule, timeouts, dead letters and replay, secret rotation, the
address rules, and both APIs."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.services import webhook_delivery_attempt, webhook_secret_rotate
from tests.notifications.helpers import queued, run_queued
from tests.notifications.webhook_receiver import Receiver, verify
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db
TASK = "notifications.deliver_webhook"


@pytest.fixture
def loopback(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOK_RETRY_JITTER = 0  # exact schedules; the jitter has its own test
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    settings.WEBHOOK_RETRY_FOR_SECONDS = 24 * 3600
    return settings


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def world(db):
    return build_world()


def register(api, world, receiver, events=("new_referral",)) -> dict:
    response = api(world.b.focal_point).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": list(events)}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def drop_queued() -> None:
    """This test plays the worker, at chosen times: the queued attempts are not run."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = %s", [TASK])


def one_delivery() -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


def test_an_event_is_signed_as_standard_webhooks_publishes_and_names_no_person(
    loopback, receiver, world, api
):
    endpoint = register(api, world, receiver)
    assert (
        endpoint["secret"].startswith("whsec_")
        and "secret" not in api(world.b.focal_point).get("/api/v1/webhooks").json()[0]
    )
    referral = world.send(reason_note="Amal needs help fast")
    assert run_queued(TASK) == 1

    ((headers, body),) = receiver.requests
    assert verify(endpoint["secret"], headers, body)
    assert not verify("whsec_" + "A" * 44, headers, body)
    event = json.loads(body)
    assert event["type"] == "new_referral"
    assert event["data"]["referral_id"] == str(referral.pk)
    assert event["data"]["reference"] == referral.reference
    assert event["data"]["link"].endswith(f"/api/v1/referrals/{referral.pk}")
    assert set(event) == {"type", "timestamp", "data"}
    text = body.decode() + json.dumps(headers)
    for value in ("Amal", "254700111222", "mornings", "GBV", "neighbour"):
        assert value not in text
    status = api(world.b.focal_point).get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert (status["last_status"], status["last_error"], status["pending_deliveries"]) == ("delivered", "", 0)


def test_one_event_per_organisation_and_only_the_events_chosen(loopback, receiver, world, api):
    register(api, world, receiver, events=["referral_withdrawn"])
    referral = world.send()  # new_referral: not chosen
    assert WebhookDelivery.objects.count() == 0
    from referrals.services import referral_transition

    referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="other", note="moved"
    )
    # however many of B's members were told, B's system hears of it once
    assert WebhookDelivery.objects.count() == 1 and one_delivery().kind == "referral_withdrawn"


def test_a_500_is_retried_on_the_backoff_schedule_and_the_receiver_dedups_by_id(
    loopback, receiver, world, api
):
    register(api, world, receiver)
    receiver.script = ["process-then-500", 500, 200]
    world.send()
    delivery = one_delivery()
    start = timezone.now()
    drop_queued()

    second = webhook_delivery_attempt(delivery_id=delivery.pk, now=start)
    assert second == start + timedelta(seconds=30)
    (job,) = queued(TASK)
    assert job.scheduled_at == second and job.args == {"delivery_id": str(delivery.pk)}
    drop_queued()
    third = webhook_delivery_attempt(delivery_id=delivery.pk, now=second)
    assert third == second + timedelta(seconds=60)
    drop_queued()
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=third) is None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 3, third)
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {delivery.message_id}
    assert list(receiver.processed) == [delivery.message_id]  # processed once, though received thrice
    assert not queued(TASK).exists()


def test_jitter_spreads_retries_within_its_bounds(loopback, receiver, world, api):
    loopback.WEBHOOK_RETRY_JITTER = 0.2
    register(api, world, receiver)
    receiver.script = [500] * 5
    for number in range(5):
        world.send(idempotency_key=f"jitter-{number}")
    now = timezone.now()
    delays = [
        (webhook_delivery_attempt(delivery_id=delivery.pk, now=now) - now).total_seconds()
        for delivery in WebhookDelivery.objects.all()
    ]
    assert all(24 <= delay <= 36 for delay in delays)
    assert len(set(delays)) == 5


def test_a_timeout_is_retried(loopback, receiver, world, api):
    loopback.WEBHOOK_TIMEOUT_SECONDS = 0.3
    register(api, world, receiver)
    receiver.script = ["hang"]
    world.send()
    now = timezone.now()
    assert webhook_delivery_attempt(delivery_id=one_delivery().pk, now=now) == now + timedelta(seconds=30)
    delivery = one_delivery()
    assert (delivery.status, delivery.last_error, delivery.last_status_code) == ("pending", "timeout", None)
    assert WebhookEndpoint.objects.get().last_status == "retrying"


@pytest.mark.parametrize(
    ("answer", "retried"), [(404, False), (400, False), (410, False), (408, True), (429, True)]
)
def test_a_4xx_is_final_except_408_and_429(loopback, receiver, world, api, answer, retried):
    register(api, world, receiver)
    receiver.script = [answer]
    world.send()
    next_at = webhook_delivery_attempt(delivery_id=one_delivery().pk)
    delivery = one_delivery()
    assert (next_at is not None) is retried
    assert delivery.status == ("pending" if retried else "dead")
    assert (delivery.last_status_code, delivery.last_error) == (answer, f"http_{answer}")


def test_a_dead_letter_after_the_retry_period_is_listed_and_replayed(loopback, receiver, world, api, gql):
    loopback.WEBHOOK_RETRY_FOR_SECONDS = 100
    endpoint = register(api, world, receiver)
    receiver.script = [500, 500, 500]
    world.send()
    delivery = one_delivery()
    start = timezone.now()
    second = webhook_delivery_attempt(delivery_id=delivery.pk, now=start)  # +30
    third = webhook_delivery_attempt(delivery_id=delivery.pk, now=second)  # +60: at 90 s, inside
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=third) is None  # +120 would pass 100 s
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("dead", 3, "http_500")

    client = api(world.b.focal_point)
    dead = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries?status=dead").json()
    assert [row["webhook_id"] for row in dead["results"]] == [delivery.message_id]
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}").json()["dead_letters"] == 1
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries?status=pending").json()["results"] == []

    # another organisation's focal point does not see it; a caseworker of B may not replay it
    assert (
        api(world.a.focal_point).post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay").status_code == 404
    )
    assert api(world.b.caseworker).post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay").status_code == 403
    drop_queued()
    replayed = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay")
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    again = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay")
    assert again.status_code == 409 and again.json()["error"]["code"] == "webhook_delivery_not_dead"
    assert run_queued(TASK) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and receiver.requests[-1][0]["webhook-id"] == delivery.message_id


def test_a_rotated_secret_signs_beside_the_new_one_during_its_grace_only(loopback, receiver, world, api, gql):
    loopback.WEBHOOK_SECRET_GRACE_SECONDS = 3600
    endpoint = register(api, world, receiver)
    old = endpoint["secret"]
    rotate = """mutation ($id: ID!) { rotateWebhookSecret(id: $id) {
        secret endpoint { previousSecretUntil } errors { code } } }"""
    endpoints = gql(world.b.focal_point, "{ webhookEndpoints { id url } }")[1]["data"]["webhookEndpoints"]
    data = gql(world.b.focal_point, rotate, {"id": endpoints[0]["id"]})[1]["data"]["rotateWebhookSecret"]
    new = data["secret"]
    assert data["errors"] == [] and new != old and data["endpoint"]["previousSecretUntil"]

    world.send(idempotency_key="during")
    run_queued(TASK)
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(old, headers, body) and verify(new, headers, body)

    world.send(idempotency_key="after")
    after_grace = timezone.now() + timedelta(seconds=3601)
    latest = WebhookDelivery.objects.order_by("-created_at").first()
    drop_queued()
    webhook_delivery_attempt(delivery_id=latest.pk, now=after_grace)
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert verify(new, headers, body) and not verify(old, headers, body)

    # a second rotation replaces the grace secret: never more than two sign
    webhook_secret_rotate(actor=world.b.focal_point, endpoint=WebhookEndpoint.objects.get())
    assert WebhookEndpoint.objects.get().previous_secret == new


UNSAFE = [
    "http://partner.example.org/hook",
    "https://10.0.0.7/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[fd00::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://0.0.0.0/hook",
    "https://user:password@partner.example.org/hook",
    "ftp://partner.example.org/hook",
    "https:///hook",
    "not a url",
]


@pytest.mark.parametrize(
    "url", [*UNSAFE, "http://127.0.0.1:8080/hook", "https://localhost/hook", "https://[::1]/hook"]
)
def test_registration_refuses_what_is_not_a_public_https_address(settings, world, api, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    response = api(world.b.focal_point).post(
        "/api/v1/webhooks", {"url": url, "events": ["new_referral"]}, format="json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "webhook_url_invalid" and list(error["fields"]) == ["url"]


@pytest.mark.parametrize("url", UNSAFE)
def test_loopback_allowance_lets_only_loopback_through(settings, world, api, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    response = api(world.b.focal_point).post(
        "/api/v1/webhooks", {"url": url, "events": ["new_referral"]}, format="json"
    )
    assert response.status_code == 400, response.content


def test_bad_events_are_refused_naming_the_field(settings, world, api):
    client = api(world.b.focal_point)
    response = client.post(
        "/api/v1/webhooks", {"url": "https://partner.example.org/h", "events": ["nope"]}, format="json"
    )
    assert response.status_code == 400 and "events" in json.dumps(response.json())
    response = client.post(
        "/api/v1/webhooks", {"url": "https://partner.example.org/h", "events": []}, format="json"
    )
    assert response.status_code == 400 and "events" in json.dumps(response.json())


def test_the_address_is_checked_again_at_delivery(loopback, receiver, world, api):
    endpoint = register(api, world, receiver)
    # a name that resolves to this machine, once loopback is no longer allowed
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
        url=receiver.url.replace("127.0.0.1", "localhost")
    )
    loopback.WEBHOOKS_ALLOW_LOOPBACK = False
    world.send()
    assert webhook_delivery_attempt(delivery_id=one_delivery().pk) is None
    delivery = one_delivery()
    assert (delivery.status, delivery.last_error) == ("dead", "address_not_allowed")
    assert receiver.requests == []


def test_a_paused_endpoint_gets_nothing_and_a_deleted_one_nothing_more(loopback, receiver, world, api):
    endpoint = register(api, world, receiver)
    client = api(world.b.focal_point)
    paused = client.patch(f"/api/v1/webhooks/{endpoint['id']}", {"is_active": False}, format="json")
    assert paused.status_code == 200 and paused.json()["is_active"] is False
    world.send(idempotency_key="paused")
    assert WebhookDelivery.objects.count() == 0
    client.patch(f"/api/v1/webhooks/{endpoint['id']}", {"is_active": True}, format="json")
    world.send(idempotency_key="resumed")
    assert client.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 204
    assert run_queued(TASK) == 1 and receiver.requests == []  # the job finds nothing to send


def test_graphql_registers_lists_deliveries_and_replays(loopback, receiver, world, gql):
    register_mutation = """mutation ($url: String!, $events: [String!]!) {
        registerWebhookEndpoint(url: $url, events: $events) {
          secret endpoint { id url events isActive lastStatus } errors { code field } } }"""
    user = world.b.focal_point
    bad = gql(user, register_mutation, {"url": "http://10.1.1.1/h", "events": ["new_referral"]})[1]
    assert bad["data"]["registerWebhookEndpoint"]["errors"] == [
        {"code": "webhook_url_invalid", "field": "url"}
    ]
    data = gql(user, register_mutation, {"url": receiver.url, "events": ["new_referral"]})[1]["data"]
    created = data["registerWebhookEndpoint"]
    assert created["errors"] == [] and created["secret"].startswith("whsec_")
    receiver.script = [404]
    world.send()
    run_queued(TASK)
    deliveries = """query ($endpoint: ID!) {
        webhookDeliveries(endpoint: $endpoint, status: "dead", first: 10) {
          totalCount edges { node { id webhookId status attempts lastError lastStatusCode } } } }"""
    page = gql(user, deliveries, {"endpoint": created["endpoint"]["id"]})[1]["data"]["webhookDeliveries"]
    (node,) = [edge["node"] for edge in page["edges"]]
    assert (node["status"], node["lastError"], node["lastStatusCode"]) == ("dead", "http_404", 404)
    listed = gql(user, "{ webhookEndpoints { lastStatus lastError deadLetters } }")[1]["data"]
    assert listed["webhookEndpoints"] == [{"lastStatus": "dead", "lastError": "http_404", "deadLetters": 1}]
    replay = (
        """mutation ($id: ID!) { replayWebhookDelivery(id: $id) { delivery { status } errors { code } } }"""
    )
    other = gql(world.a.focal_point, replay, {"id": node["id"]})[1]["data"]["replayWebhookDelivery"]
    assert other["errors"] == [{"code": "webhook_delivery_not_found"}]
    answer = gql(user, replay, {"id": node["id"]})[1]["data"]["replayWebhookDelivery"]
    assert answer == {"delivery": {"status": "pending"}, "errors": []}
    run_queued(TASK)
    assert one_delivery().status == "delivered" and len(receiver.requests) == 2
