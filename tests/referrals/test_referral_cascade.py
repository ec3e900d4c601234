"""Withdrawing consent or erasing a person reaches every referral that rests on it."""

import pytest

from consent.services import consent_new_version, consent_withdraw, person_erase
from partners.errors import NotFound
from referrals import services
from referrals.models import Notification, Referral, ReferralEvent
from referrals.selectors import referral_get_visible
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)

MARKERS = ("Amal", "+254700111222", "mornings", "a private note about the threat")


def database_text_containing(marker: str) -> list[str]:
    """Every (table.column) of the whole database whose text contains ``marker`` in clear."""
    from django.db import connection

    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'
               AND data_type IN ('text', 'character varying', 'jsonb', 'ARRAY')"""
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',
                [f"%{marker}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


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
        with pytest.raises(NotFound):
            referral_get_visible(user=world.b.focal_point, referral_id=referral.pk)
        assert not world.b.caseworker.has_perm("referrals.view_referral", referral)
    # the events stay, as the record of what happened
    kinds = list(open_referral.events.values_list("kind", flat=True))
    assert kinds == ["sent", "consent_withdrawn", "payload_erased"]
    assert Notification.objects.filter(
        referral=open_referral, kind="referral_withdrawn", recipient=world.b.focal_point
    )
    # the referring side still sees what happened
    assert referral_get_visible(user=world.a.caseworker, referral_id=open_referral.pk).status == "withdrawn"


def test_after_withdrawal_the_payload_is_nowhere_in_the_database_history_included(world):
    from consent.crypto import decrypt

    referral = world.send(
        optional_fields=["best_time_to_call"], reason_note="a private note about the threat"
    )
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    consent_withdraw(actor=world.a.caseworker, record=world.consent, channel="in_person")
    # nothing in clear text…
    for marker in ("a private note about the threat",):
        assert database_text_containing(marker) == []
    # …and no encrypted copy left on the referral, its history or its events
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload, reason_note, outcome_note FROM referrals_referral WHERE id = %s", [referral.pk]
        )
        assert all(not value for value in cursor.fetchone())
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'referrals_historicalreferral'"
        )
        history_columns = {row[0] for row in cursor.fetchall()}
        assert not history_columns & {"payload", "reason_note", "outcome_note"}
        cursor.execute("SELECT note FROM referrals_referralevent WHERE referral_id = %s", [referral.pk])
        notes = [row[0] for row in cursor.fetchall()]
    assert all(not note or "threat" not in decrypt(note) for note in notes)


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
    referral = world.send(reason_note="a private note about the threat")
    person_erase(actor=world.a.focal_point, person=world.person)
    referral.refresh_from_db()
    assert referral.payload is None and referral.status == "withdrawn"
    for marker in MARKERS:
        assert database_text_containing(marker) == [], marker
