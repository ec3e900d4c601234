"""Two requests at once, on two real database connections."""

import threading

import pytest
from django.db import connection

from common.errors import Conflict
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Run the calls at the same moment in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_partners_accepting_at_once_get_one_success_and_one_conflict():
    world = build_world()
    referral = world.send()
    results = race(
        lambda: services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept"),
        lambda: services.referral_transition(actor=world.b.caseworker2, referral=referral, action="accept"),
    )
    successes = [r for r in results if isinstance(r, Referral)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(successes) == 1 and len(conflicts) == 1, results
    assert conflicts[0].code == "invalid_transition"
    assert ReferralEvent.objects.filter(referral=referral, kind="accepted").count() == 1


def test_the_same_idempotency_key_sent_twice_at_once_makes_one_referral():
    world = build_world()
    results = race(
        lambda: world.send(idempotency_key="double-click"),
        lambda: world.send(actor=world.a.caseworker2, idempotency_key="double-click"),
    )
    assert all(isinstance(r, Referral) for r in results), results
    assert results[0].pk == results[1].pk
    assert Referral.objects.count() == 1
    assert ReferralEvent.objects.filter(kind="sent").count() == 1
