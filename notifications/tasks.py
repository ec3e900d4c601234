"""Jobs of the notifications app, and the job runner's own periodic housekeeping.

Run by `manage.py run_worker` (docs/operations.md, Jobs). Periodic jobs are deferred by the workers
themselves; with several workers each tick is deferred once (procrastinate records the ticks).
"""

from django.conf import settings
from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app

from common.jobs import db_job
from notifications import reminders
from notifications.jobs import DELIVER, DELIVER_WEBHOOK, deliveries_defer, jobs_retry_stalled
from notifications.services import notification_deliver, webhook_delivery_attempt


@app.task(
    name=DELIVER,
    queue="notifications",
    retry=RetryStrategy(max_attempts=settings.NOTIFICATION_MAX_ATTEMPTS, exponential_wait=2),
)
@db_job
def deliver(notification_id: str) -> None:
    """Push one notice on the channels its recipient chose; a channel held back by quiet hours is
    tried again when they end (a new job, scheduled then)."""
    held_until = notification_deliver(notification_id=notification_id)
    if held_until is not None:
        deliveries_defer([notification_id], schedule_at=held_until)


@app.task(
    name=DELIVER_WEBHOOK,
    queue="notifications",
    retry=RetryStrategy(max_attempts=settings.NOTIFICATION_MAX_ATTEMPTS, exponential_wait=2),
)
@db_job
def deliver_webhook(delivery_id: str) -> None:
    """One attempt of one webhook delivery; a failure worth retrying schedules the next attempt
    itself (a new job at the backoff's time), so the schedule is the delivery row's, not the queue's."""
    webhook_delivery_attempt(delivery_id=delivery_id)


@app.periodic(cron=settings.REMINDERS_CRON)
@app.task(name="notifications.remind", queue="periodic")
@db_job
def remind(timestamp: int) -> None:
    reminders.consents_expired_remind()
    reminders.data_subject_requests_due_remind()


@app.periodic(cron="* * * * *")
@app.task(name="notifications.retry_stalled_jobs", queue="periodic", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    await jobs_retry_stalled(context.app, seconds_since_heartbeat=settings.JOB_STALLED_AFTER_SECONDS)


@app.periodic(cron=settings.RETENTION_CRON)
@app.task(name="notifications.job_retention", queue="periodic", pass_context=True)
async def job_retention(context: JobContext, timestamp: int) -> None:
    # finished jobs only: a failed one stays for an operator to see (docs/operations.md)
    await context.app.job_manager.delete_old_jobs(nb_hours=settings.JOB_RETENTION_DAYS * 24)
