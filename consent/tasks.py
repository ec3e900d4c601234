"""Periodic jobs of the consent app (run by `manage.py run_worker`, docs/operations.md)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from procrastinate.contrib.django import app

from common.jobs import db_job
from consent.services import person_read_log_purge


@app.periodic(cron=settings.RETENTION_CRON)
@app.task(name="consent.read_log_retention", queue="periodic")
@db_job
def read_log_retention(timestamp: int) -> None:
    person_read_log_purge(before=timezone.now() - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS))
