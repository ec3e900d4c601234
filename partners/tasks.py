"""Periodic jobs of the partners app (run by `manage.py run_worker`, docs/operations.md)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from procrastinate.contrib.django import app

from common.jobs import db_job
from partners.services import credentials_purge


@app.periodic(cron=settings.RETENTION_CRON)
@app.task(name="partners.token_retention", queue="periodic")
@db_job
def token_retention(timestamp: int) -> None:
    credentials_purge(before=timezone.now() - timedelta(days=settings.TOKEN_RETENTION_DAYS))
