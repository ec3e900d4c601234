"""Periodic jobs of the referrals app (run by `manage.py run_worker`, docs/operations.md)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from procrastinate.contrib.django import app

from common.jobs import db_job
from referrals.services import access_log_purge, referrals_escalate_overdue


@app.periodic(cron=settings.ESCALATION_CRON)
@app.task(name="referrals.escalate_overdue", queue="periodic")
@db_job
def escalate_overdue(timestamp: int) -> None:
    referrals_escalate_overdue()


@app.periodic(cron=settings.RETENTION_CRON)
@app.task(name="referrals.access_log_retention", queue="periodic")
@db_job
def access_log_retention(timestamp: int) -> None:
    access_log_purge(before=timezone.now() - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS))
