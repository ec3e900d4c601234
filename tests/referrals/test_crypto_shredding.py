"""Crypto-shredding: erasure destroys the person's data key, so copies taken before are unreadable.

The copies are the raw column values, read with a cursor as a backup, a replica or the write-ahead
log would hold them: the person's own fields, a history row, a referral payload and note, an event
note. They open before the erasure and do not after it — not even with the master keys, which
never encrypted them.
"""

import logging

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common.errors import Conflict
from consent import crypto, keys
from consent import services as consent_services
from consent.fields import EncryptionContextError
from consent.models import Person, PersonKey
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests.consent.test_erasure import scan_database
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

CATEGORIES = ["given_name", "phone", "best_time_to_call", "narrative"]


def column(table: str, name: str, order: str = "1", **where) -> list[str]:
    """The stored values of one column, as a copy of the database would hold them."""
    (key, value) = where.popitem()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {name} FROM {table} WHERE {key} = %s AND {name} <> '' ORDER BY {order}", [value]
        )
        return [row[0] for row in cursor.fetchall()]


def copies_of(world, referral) -> dict[str, str]:
    """One stored ciphertext of each kind, with the plaintext it holds."""
    person = world.person.pk
    history = column("consent_historicalperson", "phone", order="history_id", id=person)  # the first
    return {
        "person.given_name": (column("consent_person", "given_name", id=person)[0], "Amal"),
        "person.narrative": (column("consent_person", "narrative", id=person)[0], "long narrative held by A"),
        "history.phone": (history[0], "+254700111222"),
        "referral.payload": (
            column("referrals_referral", "payload", id=referral.pk)[0],
            '{"best_time_to_call": "mornings", "given_name": "Amal", "narrative": "threat on the road", '
            '"phone": "+254700111222"}',
        ),
        "referral.reason_note": (
            column("referrals_referral", "reason_note", id=referral.pk)[0],
            "threat on the road",
        ),
        "event.note": (column("referrals_referralevent", "note", referral_id=referral.pk)[0], "called her"),
    }


def send_and_accept(world):
    referral = world.send(
        optional_fields=["best_time_to_call", "narrative"], reason_note="threat on the road"
    )
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="accept", note="called her"
    )
    return referral


def open_with_master_keys_and_key_table(token: str, person_id) -> str:
    """What an attacker holding a copy of the database and the master keys would do."""
    wrapped = PersonKey.objects.get(person_id=person_id).wrapped_key
    if wrapped is None:
        raise crypto.PersonKeyDestroyed("no key left")
    return crypto.unseal(Fernet(crypto.unwrap(wrapped)), token)


def cannot_open_with_any_master_key(token: str, settings) -> bool:
    fernet_token = token.rsplit(":", 1)[1].encode()
    for master in settings.FIELD_ENCRYPTION_KEYS:
        with pytest.raises(InvalidToken):
            Fernet(master).decrypt(fernet_token)
    return True


def test_copies_taken_before_erasure_cannot_be_read_after_it_not_even_with_the_master_keys(settings):
    world = build_world(data_categories=CATEGORIES)
    referral = send_and_accept(world)
    copies = copies_of(world, referral)
    key_id = PersonKey.objects.get(person_id=world.person.pk).id
    # before: every copy opens, through the application and with the master keys + the key table
    for name, (token, plaintext) in copies.items():
        assert token.startswith(f"{crypto.DATA_TOKEN_PREFIX}{key_id.hex}:"), name
        assert plaintext not in token, name
        assert keys.unseal(token) == plaintext, name
        assert open_with_master_keys_and_key_table(token, world.person.pk) == plaintext, name
        assert cannot_open_with_any_master_key(token, settings)  # the master keys never sealed data

    consent_services.person_erase(actor=world.a.focal_point, person=world.person)

    row = PersonKey.objects.get(person_id=world.person.pk)
    assert row.wrapped_key is None and row.destroyed_at is not None
    for name, (token, _) in copies.items():
        # the key was in this thread's cache a moment ago: it is gone from there too
        with pytest.raises(crypto.PersonKeyDestroyed):
            keys.unseal(token)
        with pytest.raises(crypto.PersonKeyDestroyed):
            open_with_master_keys_and_key_table(token, world.person.pk)
        assert cannot_open_with_any_master_key(token, settings), name
    # the live rows were cleared as before (the erasure tests scan every table for the values)
    assert Referral.objects.get(pk=referral.pk).payload is None
    assert not ReferralEvent.objects.filter(referral=referral, note__isnull=False).exists()


def test_the_other_persons_keep_their_keys(settings):
    world = build_world(data_categories=CATEGORIES)
    send_and_accept(world)
    other = consent_services.person_create(actor=world.a.caseworker, given_name="Neema", age_band="18_59")
    consent_services.person_erase(actor=world.a.focal_point, person=world.person)
    keys.clear_cache()
    assert Person.objects.get(pk=other.pk).given_name == "Neema"


def test_after_master_key_rotation_everything_reads_and_erasure_still_shreds(settings):
    world = build_world(data_categories=CATEGORIES)
    referral = send_and_accept(world)
    Person.objects.filter(pk=world.person.pk).update(registered_by=world.a.caseworker)
    consent_services.person_update(actor=world.a.caseworker, person=world.person, phone="+254799000000")
    copies = copies_of(world, referral)
    old_master, new_master = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new_master, old_master]
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_master]  # the old master key is retired

    # the data was not re-encrypted: the same ciphertexts, and all of them still open
    assert copies_of(world, referral) == copies
    for name, (token, plaintext) in copies.items():
        assert keys.unseal(token) == plaintext, name
    person = Person.objects.get(pk=world.person.pk)
    assert (person.given_name, person.phone) == ("Amal", "+254799000000")
    assert {row.phone for row in Person.history.filter(id=person.pk)} == {"+254700111222", "+254799000000"}
    assert Referral.objects.get(pk=referral.pk).reason_note == "threat on the road"
    assert ReferralEvent.objects.get(referral=referral, kind="accepted").note == "called her"
    # the wrapped key in a backup taken before the rotation opens only with the retired master key
    wrapped = PersonKey.objects.get(person_id=person.pk).wrapped_key
    assert Fernet(new_master).decrypt(wrapped.encode())
    with pytest.raises(InvalidToken):
        Fernet(old_master).decrypt(wrapped.encode())

    consent_services.person_erase(actor=world.a.focal_point, person=world.person)

    for name, (token, _) in copies.items():
        with pytest.raises(crypto.PersonKeyDestroyed):
            keys.unseal(token)
        assert cannot_open_with_any_master_key(token, settings), name
    # a second rotation has nothing to re-wrap for the erased person, and changes nothing else
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert PersonKey.objects.get(person_id=person.pk).wrapped_key is None


def test_person_keys_are_never_in_history_tables_or_logs(settings, caplog):
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    with CaptureQueriesContext(connection) as queries:  # also turns the SQL debug log on
        world = build_world(data_categories=CATEGORIES)
        send_and_accept(world)
        wrapped = PersonKey.objects.get(person_id=world.person.pk).wrapped_key
        data_key = crypto.unwrap(wrapped).decode()
        settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
        call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        rewrapped = PersonKey.objects.get(person_id=world.person.pk).wrapped_key
        assert crypto.unwrap(rewrapped).decode() == data_key
        # the only place the key can be read from is the key table (by unwrapping it); it is in
        # no history table, and there is no history table of keys
        assert scan_database(data_key) == ["consent_personkey.wrapped_key"]
        assert scan_database(rewrapped) == ["consent_personkey.wrapped_key"]
        assert scan_database(wrapped) == []
        consent_services.person_erase(actor=world.a.focal_point, person=world.person)
    assert not hasattr(PersonKey, "history")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%%personkey%%'"
        )
        assert [name for (name,) in cursor.fetchall()] == ["consent_personkey"]
    # the SQL debug log saw every statement — the key table's among them — but none of the keys
    statements = [query["sql"] for query in queries.captured_queries]
    assert any('INSERT INTO "consent_personkey"' in sql for sql in statements)
    assert any('UPDATE "consent_personkey"' in sql for sql in statements)
    assert any("consent_personkey" in record.getMessage() for record in caplog.records)
    for secret in (data_key, wrapped, rewrapped):
        assert secret not in caplog.text
        assert not [sql for sql in statements if secret in sql]
    sql_log = [record for record in caplog.records if record.name == "django.db.backends"]
    assert len(sql_log) == len(statements) > 50  # the log really was on, for every statement
    row = PersonKey.objects.get(person_id=world.person.pk)
    assert rewrapped not in f"{row} {row!r}"


def test_the_wrapped_key_alone_decrypts_nothing(settings):
    world = build_world(data_categories=CATEGORIES)
    referral = send_and_accept(world)
    token = column("referrals_referral", "payload", id=referral.pk)[0]
    wrapped = PersonKey.objects.get(person_id=world.person.pk).wrapped_key
    # the wrapped key is not a key
    with pytest.raises(ValueError):
        Fernet(wrapped)
    # and without the master key it cannot be unwrapped: with other master keys nothing opens
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(wrapped)
    with pytest.raises(crypto.DecryptionError):
        keys.unseal(token)
    with pytest.raises(crypto.DecryptionError):
        Referral.objects.get(pk=referral.pk).payload  # noqa: B018


def test_a_page_of_persons_opens_with_one_key_query(django_assert_num_queries):
    world = build_world()
    for index in range(5):
        consent_services.person_create(actor=world.a.caseworker, given_name=f"P{index}", age_band="18_59")
    keys.clear_cache()
    with django_assert_num_queries(2):  # the rows, then the keys of all of them
        names = sorted(person.given_name for person in Person.objects.filter(organisation=world.a))
    assert names == ["Amal", "P0", "P1", "P2", "P3", "P4"]
    keys.clear_cache()
    with django_assert_num_queries(2):  # values_list opens its rows the same way
        rows = Person.objects.filter(organisation=world.a).values_list("given_name", flat=True)
        assert sorted(rows) == names
    with django_assert_num_queries(1):  # and the keys stay for the rest of the request
        assert len(list(Person.objects.filter(organisation=world.a).values("given_name", "phone"))) == 6


def test_encrypted_values_are_written_through_instances_only():
    world = build_world()
    with pytest.raises(EncryptionContextError), transaction.atomic():
        Person.objects.filter(pk=world.person.pk).update(phone="+254 7")
    Person.objects.filter(pk=world.person.pk).update(narrative=None)  # clearing needs no key
    assert Person.objects.get(pk=world.person.pk).narrative is None


def test_nothing_new_can_be_stored_about_an_erased_person():
    world = build_world()
    consent_services.person_erase(actor=world.a.focal_point, person=world.person)
    with pytest.raises(Conflict) as raised:
        consent_services.data_subject_request_create(
            actor=world.a.caseworker, person=world.person, kind="access", channel="phone", details="Me again"
        )
    assert (raised.value.code, raised.value.field) == ("person_erased", "details")
    request = consent_services.data_subject_request_create(
        actor=world.a.caseworker, person=world.person, kind="access", channel="phone"
    )
    consent_services.data_subject_request_complete(actor=world.a.caseworker, request=request)
    with pytest.raises(crypto.PersonKeyDestroyed):
        keys.seal(world.person.pk, "anything")


def test_a_person_erased_before_any_key_was_made_gets_a_tombstone():
    world = build_world()
    quiet = consent_services.person_create(actor=world.a.caseworker, age_band="18_59")  # nothing to seal
    assert not PersonKey.objects.filter(person_id=quiet.pk).exists()
    consent_services.person_erase(actor=world.a.focal_point, person=quiet)
    tombstone = PersonKey.objects.get(person_id=quiet.pk)
    assert tombstone.wrapped_key is None and tombstone.destroyed_at is not None
    with pytest.raises(crypto.PersonKeyDestroyed):
        keys.seal(quiet.pk, "a key made after the erasure would be a way back in")


def test_a_row_read_as_its_person_is_erased_shows_nothing_rather_than_failing():
    world = build_world(data_categories=CATEGORIES)
    referral = send_and_accept(world)
    read_before = Referral.objects.get(pk=referral.pk)  # sealed values, not opened yet
    events_before = list(ReferralEvent.objects.filter(referral=referral, kind="accepted"))
    consent_services.person_erase(actor=world.a.focal_point, person=world.person)
    assert read_before.payload is None and read_before.reason_note is None
    assert events_before[0].note is None
