"""Delivery: a notice's job is committed with the change; each channel is pushed once; choices,
quiet hours and membership decide what is pushed; e-mail speaks the recipient's language."""

import json
from datetime import datetime, time, timedelta
from datetime import timezone as tz

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, NotificationPreference
from referrals.models import Notification, Referral
from referrals.services import referral_transition
from tests.notifications.helpers import queued, run_queued
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.SMS_BACKEND = "notifications.sms.FileSmsGateway"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    return tmp_path / "sms.log"


def sms_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_notice_and_its_delivery_job_are_committed_together_or_not_at_all():
    world = build_world()
    with pytest.raises(RuntimeError), transaction.atomic():
        world.send()
        assert queued().count() == 1
        raise RuntimeError("the change fails after the notice was written")
    assert queued().count() == 0 and not Notification.objects.exists()
    referral = world.send()
    notice = Notification.objects.get(referral=referral)
    assert [job.args for job in queued()] == [{"notification_id": str(notice.pk)}]


def test_a_new_referral_reaches_the_receiving_focal_point_by_email_once(settings):
    settings.SITE_URL = "https://hub.example.org"
    world = build_world()
    referral = world.send()
    assert run_queued() == 1
    assert [message.to for message in mail.outbox] == [[world.b.focal_point.email]]
    message = mail.outbox[0]
    assert referral.reference in message.subject
    assert f"https://hub.example.org/api/v1/referrals/{referral.pk}" in message.body
    delivery = Delivery.objects.get(channel="email")
    assert message.extra_headers["Message-ID"] == f"<{delivery.pk}@referral-hub.invalid>"
    notice = Notification.objects.get(referral=referral)
    assert notice.sent_at is not None
    # the job run again (a retry, a second worker) pushes nothing twice and keeps sent_at
    sent_at = notice.sent_at
    services.notification_deliver(notification_id=notice.pk)
    app_rerun = services.notification_deliver(notification_id=notice.pk)
    assert app_rerun is None and len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.sent_at == sent_at


def test_running_the_delivery_twice_delivers_once_even_when_sent_at_was_not_recorded(sms_file):
    world = build_world()
    NotificationPreference.objects.create(
        user=world.b.focal_point, sms_events=["new_referral"], sms_number="+254700000001"
    )
    world.send()
    notice = Notification.objects.get()
    services.notification_deliver(notification_id=notice.pk)
    Notification.objects.filter(pk=notice.pk).update(sent_at=None)  # as if killed before the last step
    services.notification_deliver(notification_id=notice.pk)
    assert len(mail.outbox) == 1 and len(sms_lines(sms_file)) == 1
    assert sorted(Delivery.objects.values_list("channel", "status")) == [("email", "sent"), ("sms", "sent")]


def test_preferences_choose_events_and_channels(sms_file):
    world = build_world()
    NotificationPreference.objects.create(
        user=world.b.focal_point, email_events=[], sms_events=["new_referral"], sms_number="+254700000001"
    )
    NotificationPreference.objects.create(user=world.a.caseworker, email_events=["referral_declined"])
    referral = world.send()
    run_queued()
    assert mail.outbox == []
    (sms,) = sms_lines(sms_file)
    assert sms["to"] == "+254700000001" and referral.reference in sms["text"]
    assert sms["key"] == str(Delivery.objects.get(channel="sms").pk)
    # the referrer chose e-mail for declines only: acceptance is in-app, a decline is mailed too
    referral_transition(actor=world.b.focal_point, referral=referral, action="accept")
    run_queued()
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=world.a.caseworker, kind="referral_accepted").exists()


def test_an_sms_number_is_needed_and_only_a_reference_and_a_link_travel(sms_file):
    world = build_world()
    NotificationPreference.objects.create(user=world.b.focal_point, sms_events=["new_referral"])
    world.send()
    run_queued()
    assert sms_lines(sms_file) == []
    assert Delivery.objects.get(channel="sms").detail == "no_address"


def _quiet(user, start=time(20, 0), end=time(7, 0), zone="Africa/Nairobi"):
    return NotificationPreference.objects.create(
        user=user, quiet_hours_start=start, quiet_hours_end=end, time_zone=zone
    )


def test_quiet_hours_hold_email_until_they_end():
    world = build_world()
    _quiet(world.b.focal_point)
    world.send()
    notice = Notification.objects.get()
    night = datetime(2026, 3, 2, 22, 30, tzinfo=tz(timedelta(hours=3)))  # 22:30 in Nairobi
    held_until = services.notification_deliver(notification_id=notice.pk, now=night)
    assert held_until == datetime(2026, 3, 3, 7, 0, tzinfo=tz(timedelta(hours=3)))
    assert mail.outbox == [] and Notification.objects.get().sent_at is None
    assert services.notification_deliver(notification_id=notice.pk, now=held_until) is None
    assert len(mail.outbox) == 1


def test_the_delivery_job_reschedules_itself_for_the_end_of_quiet_hours():
    world = build_world()
    always = _quiet(world.b.focal_point, start=time(0, 0), end=time(23, 59), zone="UTC")
    world.send()
    run_queued()
    (job,) = queued()
    assert job.scheduled_at is not None and job.scheduled_at > timezone.now()
    assert mail.outbox == []
    always.delete()
    run_queued(now=job.scheduled_at)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("urgent_kind", ["emergency", "psea"])
def test_emergency_and_psea_referrals_ignore_quiet_hours(urgent_kind):
    from partners.models import ServiceCategory

    if urgent_kind == "psea":
        world = build_world(purposes=["psea"])
        psea = ServiceCategory.objects.create(code="psea", name="Sexual exploitation and abuse")
        world.service_b.category = psea
        world.service_b.save()
        referral = world.send()
    else:
        world = build_world()
        referral = world.send(urgency=Referral.Urgency.EMERGENCY)
    _quiet(world.b.focal_point, start=time(0, 0), end=time(23, 59), zone="UTC")
    notice = Notification.objects.get(referral=referral)
    assert notice.urgent
    assert services.notification_deliver(notification_id=notice.pk) is None
    assert len(mail.outbox) == 1


def test_an_inactive_membership_receives_nothing(gql):
    world = build_world()
    referral = world.send()
    focal = world.b.focal_point
    focal.memberships.update(is_active=False)
    run_queued()
    assert mail.outbox == []
    assert list(Delivery.objects.values_list("channel", "status", "detail")) == [
        ("email", "skipped", "inactive"),
        ("sms", "skipped", "inactive"),
    ]
    assert Notification.objects.get(referral=referral).sent_at is not None  # done: nothing to send


def test_an_inactive_account_receives_nothing():
    world = build_world()
    world.send()
    type(world.b.focal_point).objects.filter(pk=world.b.focal_point.pk).update(is_active=False)
    run_queued()
    assert mail.outbox == []


def test_email_speaks_the_recipients_language():
    world = build_world()
    NotificationPreference.objects.create(user=world.b.focal_point, language="fr")
    NotificationPreference.objects.create(user=world.a.caseworker, language="ar")
    referral = world.send()
    referral_transition(actor=world.b.focal_point, referral=referral, action="accept")
    run_queued()
    french, arabic = sorted(mail.outbox, key=lambda message: message.to != [world.b.focal_point.email])
    assert french.subject == f"[Referral Hub] Nouvelle orientation : {referral.reference}"
    assert "Ouvrez-la ici" in french.body
    assert arabic.subject == f"[Referral Hub] تم قبول الإحالة: {referral.reference}"
    assert referral.reference in arabic.body


def test_a_failing_channel_is_recorded_and_retried_and_the_others_are_not_repeated(settings, sms_file):
    world = build_world()
    NotificationPreference.objects.create(
        user=world.b.focal_point, sms_events=["new_referral"], sms_number="+254700000001"
    )
    world.send()
    notice = Notification.objects.get()
    settings.SMS_BACKEND = "tests.notifications.test_delivery.BrokenGateway"
    with pytest.raises(ConnectionError):
        services.notification_deliver(notification_id=notice.pk)
    assert sorted(Delivery.objects.values_list("channel", "status", "attempts")) == [
        ("email", "sent", 1),
        ("sms", "failed", 1),
    ]
    settings.SMS_BACKEND = "notifications.sms.FileSmsGateway"
    services.notification_deliver(notification_id=notice.pk)
    assert len(mail.outbox) == 1 and len(sms_lines(sms_file)) == 1
    assert sorted(Delivery.objects.values_list("channel", "status", "attempts")) == [
        ("email", "sent", 1),
        ("sms", "sent", 2),
    ]


class BrokenGateway:
    def send(self, to, text, *, key=""):
        raise ConnectionError("gateway down")
