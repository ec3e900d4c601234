"""Running deferred jobs inside a test's transaction, as a worker would: take the queued rows,
call the task, drop the row. (The worker itself runs in a subprocess in test_worker_killed.py.)"""

from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob


def queued(task_name: str = "notifications.deliver"):
    return ProcrastinateJob.objects.filter(task_name=task_name, status="todo").order_by("id")


def run_queued(task_name: str = "notifications.deliver", *, now=None) -> int:
    """Run every queued job of ``task_name`` that is due (and those the jobs queue in turn)."""
    ran = 0
    while True:
        due = [
            job
            for job in queued(task_name)
            if job.scheduled_at is None or job.scheduled_at <= (now or timezone.now())
        ]
        if not due:
            return ran
        for job in due:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [job.id])
            app.tasks[task_name](**job.args)
            ran += 1
