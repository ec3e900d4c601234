"""The periodic jobs: declared in code with their schedules, each a thin call of its service; the
reminders tell each holder once; retention removes what is old and unusable, nothing else."""

from datetime import date, timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from knox.models import AuthToken
from procrastinate.contrib.django import app

from common.errors import ServiceError
from consent.models import DataSubjectRequest, PersonReadLog
from notifications import reminders
from partners.models import ActivationToken
from referrals.models import AccessLog, Notification, Referral
from tests.factories import ConsentRecordFactory, member
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


def test_the_periodic_jobs_are_declared_with_their_schedules(settings):
    schedules = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert schedules == {
        "referrals.escalate_overdue": settings.ESCALATION_CRON,
        "notifications.remind": settings.REMINDERS_CRON,
        "notifications.retry_stalled_jobs": "* * * * *",
        "referrals.access_log_retention": settings.RETENTION_CRON,
        "consent.read_log_retention": settings.RETENTION_CRON,
        "partners.token_retention": settings.RETENTION_CRON,
        "notifications.job_retention": settings.RETENTION_CRON,
    }
    assert settings.ESCALATION_CRON == "*/5 * * * *"  # every few minutes


def test_the_escalation_job_escalates_overdue_referrals():
    world = build_world()
    referral = world.send()
    Referral.objects.filter(pk=referral.pk).update(due_by=timezone.now() - timedelta(hours=1))
    app.tasks["referrals.escalate_overdue"](timestamp=0)
    referral.refresh_from_db()
    assert referral.escalated_at is not None
    assert Notification.objects.filter(referral=referral, kind="referral_escalated").exists()


def _expired_consent(world):
    long_ago = timezone.now() - timedelta(days=40)
    return ConsentRecordFactory(
        person=world.person,
        obtained_by=world.a.caseworker,
        obtained_at=long_ago,
        recipient_scope="named",
        recipients=[world.b.id],
        purposes=["gbv_case_management"],
        data_categories=["given_name", "phone"],
        expires_on=date.today() - timedelta(days=1),
    )


def test_an_expired_consent_carries_no_new_referral_and_its_holders_are_told_once():
    world = build_world()
    expired = _expired_consent(world)
    with pytest.raises(ServiceError) as refused:
        world.send(consent=expired)
    assert refused.value.code == "consent_expired"

    app.tasks["notifications.remind"](timestamp=0)
    app.tasks["notifications.remind"](timestamp=1)  # a second run, or a retried job, tells nobody again
    told = Notification.objects.filter(kind="consent_expired", subject_id=expired.pk)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
        [world.a.focal_point.pk, world.a.caseworker.pk]
    )
    notice = told.first()
    assert notice.reference == f"C-{expired.pk.hex[:8].upper()}"
    assert notice.link == f"/api/v1/consents/{expired.pk}"
    assert notice.organisation_id == world.a.pk and notice.referral_id is None
    # the consent still in force is nobody's concern
    assert not Notification.objects.filter(kind="consent_expired", subject_id=world.consent.pk).exists()


def test_a_reminder_skips_members_who_left():
    world = build_world()
    expired = _expired_consent(world)
    world.a.caseworker.memberships.update(is_active=False)
    assert reminders.consents_expired_remind() == 1
    assert list(
        Notification.objects.filter(subject_id=expired.pk).values_list("recipient_id", flat=True)
    ) == [world.a.focal_point.pk]


def test_requests_near_their_due_date_are_reminded_once(settings):
    settings.DATA_SUBJECT_REQUEST_REMINDER_DAYS = 5
    world = build_world()
    today = date.today()

    def request(due_in: int, status="open"):
        return DataSubjectRequest.objects.create(
            person=world.person,
            organisation=world.a,
            kind="access",
            channel="in_person",
            received_on=today - timedelta(days=20),
            due_on=today + timedelta(days=due_in),
            status=status,
            closed_at=None if status == "open" else timezone.now(),
            recorded_by=world.a.caseworker,
        )

    soon, late, later, done = request(3), request(-2), request(10), request(1, status="completed")
    assert reminders.data_subject_requests_due_remind() == 4  # focal point and recorder, twice
    assert reminders.data_subject_requests_due_remind() == 0
    told = set(Notification.objects.filter(kind="request_due_soon").values_list("subject_id", flat=True))
    assert told == {soon.pk, late.pk}
    assert later.pk not in told and done.pk not in told


def test_retention_removes_old_logs_and_dead_credentials_only(settings):
    world = build_world()
    referral = world.send()
    now = timezone.now()
    old, recent = now - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS + 1), now - timedelta(days=1)
    reader = world.b.focal_point
    for at in (old, recent):
        AccessLog.objects.create(referral=referral, user=reader, fields=["phone"], api="rest", at=at)
        PersonReadLog.objects.create(
            person=world.person, user=world.a.caseworker, what="person", api="rest", at=at
        )

    user = member(world.a)
    dead_before = now - timedelta(days=settings.TOKEN_RETENTION_DAYS + 1)
    expired_token, _ = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=expired_token.pk).update(expiry=dead_before)
    live_token, _ = AuthToken.objects.create(user=user)
    spent = ActivationToken.objects.create(
        user=user, token_hash="a" * 64, expires_at=now, used_at=dead_before
    )
    lapsed = ActivationToken.objects.create(user=user, token_hash="b" * 64, expires_at=dead_before)
    usable = ActivationToken.objects.create(
        user=user, token_hash="c" * 64, expires_at=now + timedelta(days=1)
    )
    stale_session, live_session = SessionStore(), SessionStore()
    stale_session.create()
    live_session.create()
    Session.objects.filter(session_key=stale_session.session_key).update(expire_date=dead_before)

    for name in ("referrals.access_log_retention", "consent.read_log_retention", "partners.token_retention"):
        app.tasks[name](timestamp=0)

    assert list(AccessLog.objects.values_list("at", flat=True)) == [recent]
    assert list(PersonReadLog.objects.values_list("at", flat=True)) == [recent]
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [live_token.pk]
    assert list(ActivationToken.objects.values_list("pk", flat=True)) == [usable.pk]
    assert spent.pk and lapsed.pk
    assert list(Session.objects.values_list("session_key", flat=True)) == [live_session.session_key]
