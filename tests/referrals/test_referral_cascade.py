"""Withdrawing consent or erasing a person reaches every referral that rests on it."""

import pytest

from consent.services import consent_new_version, consent_withdraw, person_erase
from referrals import services
from referrals.models import Notification, Referral, ReferralEvent
from referrals.selectors import facts_for, referral_get_visible
from tests.consent.test_erasure import scan_database
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)

MARKERS = ("Amal", "+254700111222", "mornings", "a private note about the threat")


def payload_text(referral: Referral) -> str:
    referral = Referral.objects.get(pk=referral.pk)
    return " ".join(str(value) for value in (referral.payload, referral.reason_note, referral.outcome_note))


@pytest.fixture
def world():
    return build_world(data_categories=["given_name", "phone", "best_time_to_call", "narrative"])


def test_consent_withdrawal_withdraws_erases_and_revokes(world):
    open_referral = world.send(
        optional_fields=["best_time_to_call"], reason_note="a private note about the threat"
    )
    done = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=done, action="accept")
    services.referral_transition(
        actor=world.b.caseworker,
        referral=done,
        action="complete",
        outcome="service_provided",
        note="seen Amal",
    )
    assert "Amal" in payload_text(open_referral)

    consent_withdraw(
        actor=world.a.caseworker, record=world.consent, channel="hotline", reason="changed her mind"
    )

    open_referral.refresh_from_db()
    done.refresh_from_db()
    assert open_referral.status == "withdrawn"
    assert done.status == "completed"  # closed ones keep their status; their data goes all the same
    for referral in (open_referral, done):
        assert referral.payload is None and not referral.reason_note and not referral.outcome_note
        assert referral.payload_erased_at is not None
        # the receiver keeps the record (a tombstone for the open one, the outcome code for the
        # finished one) but can no longer act on either
        seen = referral_get_visible(user=world.b.focal_point, referral_id=referral.pk)
        facts = facts_for(user=world.b.focal_point, referral=seen)
        assert facts.payload is None and facts.reason_note is None and facts.outcome_note is None
        assert facts.allowed_actions == frozenset()
        assert not world.b.caseworker.has_perm("referrals.respond_referral", referral)
    assert facts_for(user=world.b.focal_point, referral=done).tombstone is False
    assert referral_get_visible(user=world.b.focal_point, referral_id=done.pk).outcome == "service_provided"
    # the events stay, as the record of what happened
    kinds = list(open_referral.events.values_list("kind", flat=True))
    assert kinds == ["sent", "consent_withdrawn", "payload_erased"]
    assert Notification.objects.filter(
        referral=open_referral, kind="consent_withdrawn", recipient=world.b.focal_point
    )
    # the referring side still sees what happened
    assert referral_get_visible(user=world.a.caseworker, referral_id=open_referral.pk).status == "withdrawn"


def test_after_withdrawal_the_shared_data_is_nowhere_in_the_database_history_included(world):
    marker = "Zq7-note-marker"
    referral = world.send(optional_fields=["best_time_to_call", "narrative"], reason_note=f"threat {marker}")
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="accept", note=f"called her {marker}"
    )
    # the scan decrypts every token of every text column of every table: it sees the marker now…
    assert {
        "referrals_referral.payload",
        "referrals_referral.reason_note",
        "referrals_referralevent.note",
    } <= set(scan_database(marker))
    assert "referrals_referral.payload" in scan_database("+254700111222")
    consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="in_person")
    # …and nowhere after, history tables included
    assert scan_database(marker) == []
    assert not [hit for hit in scan_database("+254700111222") if hit.startswith("referrals_")]


def test_withdrawing_the_current_version_reaches_referrals_on_earlier_versions(world):
    referral = world.send()
    newer = consent_new_version(
        actor=world.a.caseworker, previous=world.consent, data_categories=["given_name", "phone"]
    )
    consent_withdraw(actor=world.a.caseworker, record=newer, channel="phone")
    referral.refresh_from_db()
    assert referral.status == "withdrawn" and referral.payload is None


def test_cascade_failure_rolls_back_the_withdrawal(world):
    from consent import cascade

    referral = world.send()

    def broken(**kwargs):
        raise RuntimeError("notification store down")

    cascade.register_withdrawal_handler(broken)
    try:
        with pytest.raises(RuntimeError):
            consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="phone")
    finally:
        cascade.unregister_withdrawal_handler(broken)
    referral.refresh_from_db()
    world.consent.refresh_from_db()
    assert world.consent.status == "active"
    assert referral.status == "sent" and referral.payload is not None
    assert not ReferralEvent.objects.filter(kind="consent_withdrawn").exists()


def test_erasing_the_person_erases_their_referrals(world):
    referral = world.send(optional_fields=["narrative"], reason_note="a private note about the threat")
    assert scan_database("a private note about the threat")
    person_erase(actor=world.a.focal_point, person=world.person)
    referral.refresh_from_db()
    assert referral.payload is None and referral.status == "withdrawn"
    for marker in MARKERS:
        assert scan_database(marker) == [], marker
    assert list(referral.events.values_list("kind", flat=True)) == [
        "sent",
        "consent_withdrawn",
        "payload_erased",
    ]


def test_a_narrower_new_version_withdraws_the_referrals_it_no_longer_covers(world):
    kept = world.send()  # given_name, phone
    dropped = world.send(optional_fields=["best_time_to_call"])  # given_name, phone, best_time_to_call
    consent_new_version(
        actor=world.a.caseworker, previous=world.consent, data_categories=["given_name", "phone"]
    )
    kept.refresh_from_db()
    dropped.refresh_from_db()
    assert kept.status == "sent" and kept.payload == {"given_name": "Amal", "phone": "+254700111222"}
    assert dropped.status == "withdrawn" and dropped.payload is None
    assert facts_for(user=world.b.caseworker, referral=dropped).tombstone
    assert not world.b.caseworker.has_perm("referrals.respond_referral", dropped)


def test_a_new_version_without_the_recipient_withdraws_its_referrals(world):
    referral = world.send()
    consent_new_version(actor=world.a.caseworker, previous=world.consent, recipients=[world.c])
    referral.refresh_from_db()
    assert referral.status == "withdrawn" and referral.payload is None


def _world_with_referrals(count: int):
    world = build_world()
    referrals = [world.send(idempotency_key=f"n{index}") for index in range(count)]
    for referral in referrals[: count // 2]:  # some finished ones too: they are erased, not withdrawn
        services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    return world, referrals


@pytest.mark.parametrize("how", ["withdrawal", "erasure"])
def test_the_cascade_costs_the_same_statements_for_one_referral_or_twenty(how):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    counts = []
    for count in (1, 20):
        with transaction.atomic():
            world, referrals = _world_with_referrals(count)
            with CaptureQueriesContext(connection) as captured:
                if how == "withdrawal":
                    consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="hotline")
                else:
                    person_erase(actor=world.a.focal_point, person=world.person)
            assert (
                Referral.objects.filter(pk__in=[r.pk for r in referrals], payload__isnull=True).count()
                == count
            )
            assert ReferralEvent.objects.filter(kind="payload_erased").count() == count
            assert Notification.objects.filter(kind="consent_withdrawn").count() == count
            counts.append(len(captured))
            transaction.set_rollback(True)
    assert counts[0] == counts[1], counts
