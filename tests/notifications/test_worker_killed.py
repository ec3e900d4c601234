"""A worker killed with SIGKILL in the middle of a delivery: the job is not lost, and when it runs
again every channel is pushed exactly once.

Real worker processes (`manage.py run_worker`) against this test's database. The first is started
with the test-only HUB_TEST_BLOCK_DELIVERY_AT: it writes that file when it is about to push the
first channel, inside the transaction that would record it, and blocks there — so the kill lands
mid-delivery every time, without timing. Then the dead worker's job is put back in the queue (as
the periodic retry_stalled_jobs does) and a second worker runs what is queued and exits."""

import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from hub.local_state import BASE_DIR
from notifications.jobs import jobs_retry_stalled
from notifications.models import Delivery, NotificationPreference
from notifications.services import BLOCK_DELIVERY_ENV
from referrals.models import Notification
from tests.referrals.referral_setup import build_world

WAIT_SECONDS = 120


def database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    credentials = f"{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@"
    if host.startswith("/"):  # the embedded server's socket folder
        return f"postgres://{credentials}/{db['NAME']}?host={quote(host)}"
    return f"postgres://{credentials}{host}:{db['PORT'] or 5432}/{db['NAME']}"


def worker(tmp_path, *args, block: bool = False) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != BLOCK_DELIVERY_ENV}
    env.update(
        DATABASE_URL=database_url(),
        DEBUG="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SMS_BACKEND="notifications.sms.FileSmsGateway",
        SMS_FILE_PATH=str(tmp_path / "sms.log"),
    )
    if block:
        env[BLOCK_DELIVERY_ENV] = str(tmp_path / "blocked")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--queues=notifications", "--concurrency=1", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def mails(tmp_path) -> list[str]:
    folder = tmp_path / "mail"
    text = "".join(path.read_text() for path in folder.glob("*.log")) if folder.exists() else ""
    return [line for line in text.splitlines() if line.startswith("Message-ID:")]


def sms(tmp_path) -> list[dict]:
    path = tmp_path / "sms.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _empty_queue() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs; DELETE FROM procrastinate_workers")


@pytest.fixture
def clean_queue(transactional_db):
    # the job tables are not Django's to flush between tests: other committed tests leave jobs
    _empty_queue()
    yield
    _empty_queue()


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_retry_delivers_once(tmp_path, clean_queue):
    world = build_world()
    NotificationPreference.objects.create(
        user=world.b.focal_point, sms_events=["new_referral"], sms_number="+254700000001"
    )
    referral = world.send()
    notice = Notification.objects.get(referral=referral)
    (job,) = ProcrastinateJob.objects.filter(
        task_name="notifications.deliver", args__notification_id=str(notice.pk)
    )

    first = worker(tmp_path, block=True)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not (tmp_path / "blocked").exists():
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the worker never reached the delivery"
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    # killed mid-delivery: nothing pushed, nothing recorded, the job still held by the dead worker
    assert mails(tmp_path) == [] and sms(tmp_path) == []
    assert not Delivery.objects.exists()
    assert ProcrastinateJob.objects.get(pk=job.pk).status == "doing"

    assert async_to_sync(jobs_retry_stalled)(app, seconds_since_heartbeat=0) == [job.pk]
    second = worker(tmp_path, "--one-shot")
    _, errors = second.communicate(timeout=WAIT_SECONDS)
    assert second.returncode == 0, errors

    assert len(mails(tmp_path)) == 1 and len(sms(tmp_path)) == 1
    assert sorted(Delivery.objects.values_list("channel", "status")) == [("email", "sent"), ("sms", "sent")]
    notice.refresh_from_db()
    assert notice.sent_at is not None
    assert ProcrastinateJob.objects.get(pk=job.pk).status == "succeeded"
