import json
import re

import pytest
from django.db import connection

from tests.notifications.helpers import run_queued
from tests.referrals.referral_setup import build_world

SEND_CODE = "community.send_code"


@pytest.fixture(autouse=True)
def _sms_to_a_file(request, settings, tmp_path):
    settings.SMS_BACKEND = "notifications.sms.FileSmsGateway"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")


@pytest.fixture
def world(db):
    return build_world()


def sms_lines(settings) -> list[dict]:
    from pathlib import Path

    path = Path(settings.SMS_FILE_PATH)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def deliver_codes() -> int:
    return run_queued(SEND_CODE)


def last_code(settings) -> str:
    deliver_codes()
    return re.search(r"\d{6}", sms_lines(settings)[-1]["text"]).group()


def sign_in(client, settings, referral, phone="+254700111222"):
    """The person's way in: reference and phone, then the code from the SMS outbox."""
    response = client.post("/check/", {"reference": referral.reference, "phone": phone})
    assert response.status_code == 303, response.content.decode()[:2000]
    response = client.post("/check/code", {"code": last_code(settings)})
    assert response.status_code == 303, response.content.decode()[:2000]
    assert response["Location"] == "/check/status"
    return client
