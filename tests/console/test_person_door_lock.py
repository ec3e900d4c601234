"""Staff lock and unlock the person's status check from the referral page; the rule is the
service's (``community.services.status_check_lock``), as for REST and GraphQL."""

import uuid

import pytest

from community.models import StatusCheckLock
from tests.console.test_every_page import scrubbed

pytestmark = pytest.mark.django_db


def locked(referral) -> bool:
    return StatusCheckLock.objects.filter(referral=referral, unlocked_at__isnull=True).exists()


def test_the_holding_officer_locks_and_unlocks_the_status_check(sign_in, world):
    referral = world.send()
    client = sign_in(world.a.caseworker)
    page = client.get(f"/console/referrals/{referral.pk}").content.decode()
    assert "Lock the status check" in page
    response = client.post(f"/console/referrals/{referral.pk}/status-check/lock", follow=True)
    assert locked(referral)
    assert "Unlock the status check" in response.content.decode()
    client.post(f"/console/referrals/{referral.pk}/status-check/unlock")
    assert not locked(referral)


def test_the_receiving_side_sees_no_lock_and_cannot_lock(sign_in, world):
    referral = world.send()
    client = sign_in(world.b.caseworker)
    assert "Lock the status check" not in client.get(f"/console/referrals/{referral.pk}").content.decode()
    theirs = client.post(f"/console/referrals/{referral.pk}/status-check/lock")
    missing = client.post(f"/console/referrals/{uuid.uuid4()}/status-check/lock")
    assert theirs.status_code == missing.status_code == 404
    assert scrubbed(theirs) == scrubbed(missing)
    assert not locked(referral)


def test_a_viewer_is_told_the_service_refused(sign_in, world):
    referral = world.send()
    client = sign_in(world.a.viewer)
    response = client.post(f"/console/referrals/{referral.pk}/status-check/lock", follow=True)
    assert not locked(referral)
    assert response.status_code == 200 and "messages" in response.content.decode()


def test_the_page_follows_the_service(sign_in, world, monkeypatch):
    referral = world.send()
    monkeypatch.setattr("console.views.status_check_lock_get", lambda **_: object())
    page = sign_in(world.a.caseworker).get(f"/console/referrals/{referral.pk}").content.decode()
    assert "Unlock the status check" in page
