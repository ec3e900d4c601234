"""Deferring jobs, and the job runner's own housekeeping.

Every defer goes through Django's database connection (``django_jobs``), inside the caller's
transaction, whether the caller is a web request or a job running in a worker (whose own app
talks to the database over a connection of its own): the job is committed with the change that
caused it, or not at all.
"""

from __future__ import annotations

import functools

from procrastinate import App
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector

DELIVER = "notifications.deliver"
DELIVER_WEBHOOK = "notifications.deliver_webhook"


@functools.cache
def django_jobs() -> App:
    return app.with_connector(DjangoConnector())


def deliveries_defer(notification_ids, *, schedule_at=None) -> None:
    """One delivery job per notice, in one statement."""
    ids = [str(notification_id) for notification_id in notification_ids]
    if not ids:
        return
    deferrer = django_jobs().configure_task(DELIVER, schedule_at=schedule_at)
    deferrer.batch_defer(*({"notification_id": notification_id} for notification_id in ids))


def webhook_attempts_defer(delivery_ids, *, schedule_at=None) -> None:
    """One attempt job per webhook delivery, in one statement."""
    ids = [str(delivery_id) for delivery_id in delivery_ids]
    if not ids:
        return
    deferrer = django_jobs().configure_task(DELIVER_WEBHOOK, schedule_at=schedule_at)
    deferrer.batch_defer(*({"delivery_id": delivery_id} for delivery_id in ids))


async def jobs_retry_stalled(app: App, *, seconds_since_heartbeat: float) -> list[int]:
    """Put back in the queue every job that was running on a worker which stopped sending heartbeats
    (killed, or its machine lost) more than ``seconds_since_heartbeat`` ago. The job runs again from
    the start: every job here is written to be run twice safely (deliveries are keyed per channel)."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat)
    for job in stalled:
        await app.job_manager.retry_job(job)
    return [job.id for job in stalled]
