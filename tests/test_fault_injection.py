"""A process killed in the middle of a cascade or an import leaves the database fully before or
fully after, never half-way: SIGKILL sent to a real worker process while it is inside the work.

The worker is a separate Python process on the same test database (committed data: these tests use
transactional databases). It signals on stdout when it is inside the transaction, then waits; the
test kills it there, and checks what another connection sees. Running the same worker without the
pause shows the other end state is reachable, so the oracle can tell the two apart.
"""

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from consent.models import ConsentRecord
from partners.models import Organisation, Service
from referrals.models import Referral, ReferralEvent
from tests.hsds.conftest import EXAMPLES
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[1]
INSIDE = "INSIDE-THE-TRANSACTION"

CHILD_PRELUDE = f"""
import json, os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
from django.conf import settings
settings.DATABASES["default"].update(json.loads(os.environ["FAULT_DB"]))
import django
django.setup()

def pause_here():
    print("{INSIDE}", flush=True)
    time.sleep(120)
"""

WITHDRAW = """
from django.contrib.auth import get_user_model
from consent import cascade
from consent.models import ConsentRecord
from consent.services import consent_withdraw
if os.environ.get("FAULT_PAUSE"):
    # runs after the referrals' handler: the referrals are withdrawn and erased, nothing committed
    cascade.register_withdrawal_handler(lambda **kwargs: pause_here())
actor = get_user_model().objects.get(pk=int(sys.argv[1]))
consent_withdraw(actor=actor, record=ConsentRecord.objects.get(pk=sys.argv[2]), channel="hotline")
print("DONE", flush=True)
"""

IMPORT = """
from partners.hsds import imports
if os.environ.get("FAULT_PAUSE"):
    original = imports._Importer._apply_service
    def apply_then_pause(self, *args, **kwargs):
        original(self, *args, **kwargs)  # organisations, locations and services are written by now
        pause_here()
    imports._Importer._apply_service = apply_then_pause
imports.hsds_import(path=sys.argv[1])
print("DONE", flush=True)
"""


def _database_settings() -> str:
    settings = connection.settings_dict
    return json.dumps({key: settings[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")})


def run_child(script: str, *args, pause: bool) -> str:
    """Run the worker; with ``pause``, SIGKILL it once it is inside the transaction."""
    env = {**os.environ, "FAULT_DB": _database_settings(), "PYTHONPATH": str(ROOT)}
    if pause:
        env["FAULT_PAUSE"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD_PRELUDE + script, *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)
        assert ready, "the worker never reached the point to be killed at"
        line = process.stdout.readline().strip()
        if pause:
            assert line == INSIDE, (line, process.stderr.read())
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
        else:
            assert line == "DONE", (line, process.stderr.read())
            assert process.wait(timeout=60) == 0
        return line
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def _referral_state(referrals) -> list[tuple]:
    return [
        (row.status, row.payload_erased_at is None, row.payload)
        for row in Referral.objects.filter(pk__in=[r.pk for r in referrals]).order_by("pk")
    ]


def test_sigkill_during_a_consent_withdrawal_leaves_everything_as_it_was():
    world = build_world()
    referrals = [world.send(idempotency_key=f"k{index}") for index in range(3)]
    before = _referral_state(referrals)
    assert all(status == "sent" and present for status, present, _payload in before)

    run_child(WITHDRAW, world.a.caseworker.pk, world.consent.pk, pause=True)

    assert ConsentRecord.objects.get(pk=world.consent.pk).status == "active"
    assert _referral_state(referrals) == before
    assert not ReferralEvent.objects.filter(kind__in=["consent_withdrawn", "payload_erased"]).exists()
    # the referrals are still the receiver's to work: nothing is locked or half-withdrawn
    assert world.b.caseworker.has_perm("referrals.respond_referral", referrals[0])

    run_child(WITHDRAW, world.a.caseworker.pk, world.consent.pk, pause=False)

    assert ConsentRecord.objects.get(pk=world.consent.pk).status == "withdrawn"
    assert all(
        status == "withdrawn" and not present and payload is None
        for status, present, payload in _referral_state(referrals)
    )


def test_sigkill_during_an_hsds_import_leaves_the_directory_as_it_was():
    from tests.factories import OperationFactory

    OperationFactory()
    path = EXAMPLES / "service_full.json"
    organisations, services = Organisation.objects.count(), Service.objects.count()

    run_child(IMPORT, path, pause=True)

    assert (Organisation.objects.count(), Service.objects.count()) == (organisations, services)

    run_child(IMPORT, path, pause=False)

    assert Service.objects.count() > services and Organisation.objects.count() > organisations
