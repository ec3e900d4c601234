"""Encryption at rest with person data keys, registration-number lookup and master-key rotation."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test.utils import isolate_apps

from consent import crypto, keys, services
from consent.models import ConsentRecord, Person, PersonKey
from tests.consent.conftest import scope

pytestmark = pytest.mark.django_db


def raw_row(table: str, pk) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        columns = [c.name for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_phone_number_is_not_in_the_raw_row(adult_a):
    row = raw_row("consent_person", adult_a.pk)
    text = " ".join(str(value) for value in row.values())
    assert "+254 711 222 333" not in text
    assert "711" not in text and "Amani" not in text and "KAK-23-000101" not in text
    assert row["phone"].startswith(crypto.DATA_TOKEN_PREFIX)
    assert keys.unseal(row["phone"]) == "+254 711 222 333"
    assert Person.objects.get(pk=adult_a.pk).phone == "+254 711 222 333"


def test_history_rows_are_encrypted_too(org_a, adult_a):
    services.person_update(actor=org_a.caseworker, person=adult_a, phone="+254 799 999 999")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM consent_historicalperson WHERE id = %s", [adult_a.pk])
        values = [row[0] for row in cursor.fetchall()]
    assert len(values) == 2
    # the numbers as written (a random token may hold "254" by chance, never "799 999")
    assert all(value.startswith(crypto.DATA_TOKEN_PREFIX) and " 799 999 " not in value for value in values)
    # sealed with the person's own data key, like the live row
    key_id = PersonKey.objects.get(person_id=adult_a.pk).id
    assert {crypto.key_id_of(value) for value in values} == {key_id}


def test_encrypted_fields_cannot_be_searched_by_value(adult_a):
    with pytest.raises(FieldError):
        Person.objects.filter(phone="+254 711 222 333").exists()
    assert Person.objects.filter(narrative__isnull=True).exists()


def test_lookup_by_registration_number_uses_the_keyed_hash(org_a, adult_a):
    from consent.selectors import person_find_by_registration_number

    for spelling in ("KAK-23-000101", "kak 23 000101", " kak23000101 "):
        assert list(
            person_find_by_registration_number(user=org_a.caseworker, registration_number=spelling)
        ) == [adult_a]
    assert raw_row("consent_person", adult_a.pk)[
        "registration_number_hash"
    ] == crypto.registration_number_hash("KAK23000101")


def test_a_value_from_an_unknown_key_is_refused(settings, adult_a):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    person = Person.objects.get(pk=adult_a.pk)  # values are opened when first read
    with pytest.raises(crypto.DecryptionError):
        person.phone  # noqa: B018


def test_rotation_re_wraps_the_person_keys_and_leaves_the_data_alone(
    settings, org_a, adult_a, consent_a, deciding_officer
):
    other = services.consent_create(
        actor=deciding_officer,
        person=adult_a,
        **scope(legal_basis="mandate", justification="Mandate: statelessness determination needs it."),
    )
    services.consent_withdraw(
        actor=org_a.caseworker, record=consent_a, channel="phone", reason="Changed mind"
    )
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = raw_row("consent_person", adult_a.pk)["phone"]
    wrapped_before = PersonKey.objects.get(person_id=adult_a.pk).wrapped_key

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: everything must still read
    # the data is not re-encrypted (it is sealed with the person's data key, which stays the
    # same); only the wrapping of that key changed
    assert raw_row("consent_person", adult_a.pk)["phone"] == before
    wrapped_after = PersonKey.objects.get(person_id=adult_a.pk).wrapped_key
    assert wrapped_after != wrapped_before
    assert crypto.unwrap(wrapped_after) == Fernet(old_key).decrypt(wrapped_before.encode())
    person = Person.objects.get(pk=adult_a.pk)
    assert (person.phone, person.registration_number) == ("+254 711 222 333", "KAK-23-000101")
    assert ConsentRecord.objects.get(pk=other.pk).justification.startswith("Mandate")
    assert ConsentRecord.objects.get(pk=consent_a.pk).withdrawal_reason == "Changed mind"
    assert {h.phone for h in Person.history.model.objects.filter(id=adult_a.pk)} == {"+254 711 222 333"}


def test_rotation_recomputes_lookup_hashes_for_a_new_hmac_key(settings, org_a, adult_a):
    from consent.selectors import person_find_by_registration_number

    settings.FIELD_HMAC_KEY = "a-brand-new-hmac-key-for-this-test"
    assert not person_find_by_registration_number(user=org_a.caseworker, registration_number="KAK-23-000101")
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert person_find_by_registration_number(
        user=org_a.caseworker, registration_number="KAK-23-000101"
    ).exists()


def test_every_model_with_encrypted_fields_opens_its_values_and_names_a_person():
    from django.db import models

    from consent.checks import encrypted_models_open_their_values
    from consent.fields import EncryptedTextField

    assert encrypted_models_open_their_values(None) == []

    with isolate_apps("consent") as isolated:

        class Careless(models.Model):
            note = EncryptedTextField(key_from="owner_id")  # no such field, and a plain manager

            class Meta:
                app_label = "consent"

            def __str__(self) -> str:
                return "careless"

        found = encrypted_models_open_their_values([isolated.get_app_config("consent")])
    assert sorted(error.id for error in found) == ["consent.E001", "consent.E002"]
