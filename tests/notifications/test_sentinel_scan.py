"""Nothing delivered carries a value of the person, nor the service that would reveal their
situation. A person with unmistakable values goes through send, acknowledgement, acceptance, an
onward referral and its outcome, a decline, a withdrawal, escalation to both levels (no answer, and
no outcome after acceptance, the operation's coordinator told) and a consent withdrawal, with every user
asking for every event by e-mail and SMS and every organisation's system by webhook; then
everything delivered is scanned: the in-app rows (and both APIs' renderings of them), every e-mail
(headers and body), every SMS, every webhook request a real receiver got (headers and body)."""

import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from consent.services import consent_withdraw
from notifications.models import NotificationPreference
from notifications.services import webhook_endpoint_register
from partners.models import ServiceCategory
from referrals.models import Notification
from referrals.services import referral_refer_onward, referral_transition, referrals_escalate_overdue
from tests.factories import ConsentRecordFactory, PersonFactory, ServiceFactory
from tests.notifications.helpers import run_queued
from tests.notifications.webhook_receiver import Receiver
from tests.referrals.referral_setup import World, organisation

pytestmark = pytest.mark.django_db

SENTINELS = {
    "given_name": "Zqxgivenname",
    "family_name": "Zqxfamilyname",
    "phone": "+99912345678",
    "registration_number": "ZQX-REG-4417",
    "best_time_to_call": "zqx-evenings",
    "narrative": "Zqx narrative of what happened",
    "protection_concerns": "Zqx protection concern",
}
NOTE = "Zqx note about the person"
SERVICE = "Zqx Safe House for GBV survivors"
CATEGORY = "Zqx GBV survivor shelter"
FORBIDDEN = [*SENTINELS.values(), NOTE, SERVICE, CATEGORY, "Zqx", "zqx", "99912345678"]


def world_with_sentinels() -> World:
    a, b, c = organisation("A"), organisation("B"), organisation("C")
    category = ServiceCategory.objects.create(code="gbv_case_management", name=CATEGORY)
    fields = ["given_name", "phone", "best_time_to_call", "narrative", "protection_concerns"]
    service_b = ServiceFactory(
        organisation=b,
        category=category,
        name=SERVICE,
        required_fields=["given_name", "phone"],
        optional_fields=["best_time_to_call", "narrative", "protection_concerns"],
    )
    person = PersonFactory(organisation=a, **SENTINELS)
    consent = ConsentRecordFactory(
        person=person,
        obtained_by=a.caseworker,
        recipient_scope="named",
        recipients=[b.id, c.id],
        purposes=["gbv_case_management"],
        data_categories=fields,
        expires_on=date.today() + timedelta(days=30),
    )
    world = World(a=a, b=b, c=c, service_b=service_b, person=person, consent=consent)
    world.service_c = ServiceFactory(
        organisation=c,
        category=category,
        name=SERVICE + " C",
        required_fields=["given_name"],
        optional_fields=["phone"],
    )
    return world


def everyone(world):
    for org in (world.a, world.b, world.c):
        yield from (org.focal_point, org.caseworker, org.caseworker2, org.viewer)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with Receiver() as running:
        yield running


def test_nothing_delivered_holds_a_value_of_the_person_or_the_service(settings, tmp_path, api, gql, receiver):
    settings.SMS_BACKEND = "notifications.sms.FileSmsGateway"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    world = world_with_sentinels()
    for index, user in enumerate(everyone(world)):
        NotificationPreference.objects.create(
            user=user, sms_events=list(Notification.Kind.values), sms_number=f"+2547000000{index:02d}"
        )
    for org in (world.a, world.b, world.c):
        webhook_endpoint_register(
            actor=org.focal_point, url=receiver.url, events=list(Notification.Kind.values)
        )
    world.service_b.outcome_due_days = 5
    world.service_b.save()
    operation = world.b.operation
    operation.coordinator = world.c.caseworker
    operation.save()
    optional = ["best_time_to_call", "narrative", "protection_concerns"]
    kept = world.send(reason_note=NOTE, optional_fields=optional, idempotency_key="kept")
    referral_transition(actor=world.b.caseworker, referral=kept, action="acknowledge", note=NOTE)
    referral_transition(actor=world.b.caseworker, referral=kept, action="accept", note=NOTE)
    onward = referral_refer_onward(
        actor=world.b.caseworker,
        referral=kept,
        to_service=world.service_c,
        idempotency_key="onward",
        reason_note=NOTE,
    )
    referral_transition(actor=world.c.focal_point, referral=onward, action="accept")
    referral_transition(
        actor=world.c.focal_point, referral=onward, action="complete", outcome="service_provided", note=NOTE
    )
    declined = world.send(reason_note=NOTE, idempotency_key="declined")
    referral_transition(
        actor=world.b.caseworker, referral=declined, action="decline", reason_code="other", note=NOTE
    )
    # unanswered, and the kept one without an outcome: both climb to level 2 (frozen clock)
    world.send(reason_note=NOTE, optional_fields=optional, idempotency_key="escalated")
    later = timezone.now() + timedelta(days=15)
    assert referrals_escalate_overdue(now=later) == 2
    assert referrals_escalate_overdue(now=later + timedelta(days=4)) == 2
    withdrawn = world.send(reason_note=NOTE, idempotency_key="withdrawn")
    referral_transition(
        actor=world.a.caseworker, referral=withdrawn, action="withdraw", reason_code="other", note=NOTE
    )
    world.send(reason_note=NOTE, idempotency_key="consent")
    consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="in_person", reason=NOTE)
    run_queued()
    run_queued("notifications.deliver_webhook")

    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert kinds >= {
        "new_referral",
        "referral_acknowledged",
        "referral_accepted",
        "referral_declined",
        "outcome_recorded",
        "onward_outcome_recorded",
        "referral_withdrawn",
        "consent_withdrawn",
        "referral_escalated",
        "outcome_overdue",
    }
    assert (
        Notification.objects.filter(recipient=world.c.caseworker, reason_code__endswith="level_2").count()
        == 2
    )
    delivered = [" ".join(str(value) for value in row.values()) for row in Notification.objects.values()]
    for message in mail.outbox:
        delivered.append(message.message().as_string())
    sms = (tmp_path / "sms.log").read_text().splitlines()
    delivered += sms
    delivered += [json.dumps(headers) + body.decode() for headers, body in receiver.requests]
    for user in everyone(world):
        delivered.append(json.dumps(api(user).get("/api/v1/notifications").json()))
        delivered.append(
            json.dumps(
                gql(
                    user,
                    "{ notifications(first: 100) { edges { node { kind reference reasonCode link } } } }",
                )[1]
            )
        )
    assert len(mail.outbox) > 8 and len(sms) > 8 and len(receiver.requests) > 8
    text = "\n".join(delivered)
    assert [value for value in FORBIDDEN if value in text] == []
    # what they do carry: the references and the codes
    assert kept.reference in text and "service_provided" in text and "other" in text
