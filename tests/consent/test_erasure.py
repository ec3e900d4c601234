"""Erasure leaves no trace of the person's personal data anywhere in the database.

Every personal field (found by introspection, so a field added later is covered) receives a value
containing a unique marker; after erasure every text, varchar, json and bytea column of every table
— simple-history tables included — is read, encrypted values are decrypted, and the marker must
not appear. Before erasure the same scan must find it, which proves the scan can see it.
"""

import uuid
from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from consent import crypto, keys, services
from consent.fields import encrypted_fields
from consent.models import ConsentRecord, DataSubjectRequest, Person
from tests.consent.conftest import scope

pytestmark = pytest.mark.django_db

SCANNED_TYPES = ("text", "character varying", "character", "json", "jsonb", "bytea", "ARRAY")


def _readable(value) -> list[str]:
    """The value as text, plus its decryption when it is a token of our key ring."""
    if value is None:
        return []
    if isinstance(value, memoryview | bytes):
        value = bytes(value).decode("utf-8", errors="replace")
    text = str(value)
    found = [text]
    for word in text.replace('"', " ").replace(",", " ").replace("{", " ").replace("}", " ").split():
        # strict: a token the scan cannot read could hide the marker, so it fails the test
        if word.startswith(crypto.DATA_TOKEN_PREFIX):
            found.append(keys.unseal(word))  # a value sealed with a person's data key
        elif word.startswith(crypto.TOKEN_PREFIX):
            found.append(crypto.unwrap(word).decode())  # a wrapped data key
    return found


def scan_database(marker: str) -> list[str]:
    """Every (table.column) holding the marker, in clear or inside a decryptable token."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s)
            """,
            [list(SCANNED_TYPES)],
        )
        columns = cursor.fetchall()
        assert len({table for table, _ in columns}) > 20  # really every table, not a handful
        hits = []
        for table, column in columns:
            quoted_table, quoted_column = connection.ops.quote_name(table), connection.ops.quote_name(column)
            cursor.execute(f"SELECT {quoted_column} FROM {quoted_table} WHERE {quoted_column} IS NOT NULL")
            if any(marker in text for (value,) in cursor.fetchall() for text in _readable(value)):
                hits.append(f"{table}.{column}")
    return hits


def test_erasure_leaves_no_personal_data_anywhere(org_a, org_b, deciding_officer, gbv):
    marker = f"MARK{uuid.uuid4().hex}"
    officer = org_a.caseworker
    person = services.person_create(
        actor=officer,
        registration_number=f"REG-{marker}",
        given_name=f"Given {marker}",
        family_name=f"Family {marker}",
        phone=f"+254 {marker}",
        best_time_to_call=f"Evening {marker}",
        date_of_birth=date(1991, 7, 9),
        location_detail=f"Block {marker}",
        specific_needs=[f"{marker}-need"],
        protection_concerns=f"Concerns {marker}",
        narrative=f"Narrative {marker}",
        household_size=3,
    )
    # every encrypted person field really was filled (a field added later fails here until covered)
    filled = Person.objects.get(pk=person.pk)
    for field in encrypted_fields(Person):
        assert getattr(filled, field.name), field.name
    # a correction: the old values now live in history rows too
    services.person_update(actor=officer, person=person, phone=f"+254 7 {marker}", narrative=f"New {marker}")
    first = services.consent_create(
        actor=deciding_officer,
        person=person,
        **scope(legal_basis="safety_of_others", justification=f"Justification long enough {marker}"),
    )
    second = services.consent_new_version(actor=deciding_officer, previous=first, data_categories=["phone"])
    withdrawn = services.consent_create(
        actor=officer, person=person, **scope(recipient_scope="named", recipients=[org_b.pk])
    )
    services.consent_withdraw(actor=officer, record=withdrawn, channel="written", reason=f"Reason {marker}")
    access = services.data_subject_request_create(
        actor=officer, person=person, kind="access", channel="phone", details=f"Access {marker}"
    )
    services.data_subject_request_complete(actor=officer, request=access, outcome=f"Sent {marker}")
    erasure = services.data_subject_request_create(
        actor=officer, person=person, kind="erasure", channel="written", details=f"Erase me {marker}"
    )
    # every personal column of every consent model holds the marker somewhere
    for model in (Person, ConsentRecord, DataSubjectRequest):
        for field in encrypted_fields(model):
            if field.name in {"date_of_birth", "guardian_name", "best_interests_reference"}:
                continue  # adult subject: no guardian or BIP reference; the date cannot hold text
            assert any(marker in str(value) for value in model.objects.values_list(field.name, flat=True)), (
                f"{model.__name__}.{field.name} was not exercised"
            )
    before = scan_database(marker)
    assert "consent_person.phone" in before and "consent_historicalperson.narrative" in before
    assert "consent_historicalconsentrecord.justification" in before

    services.data_subject_request_complete(actor=org_a.focal_point, request=erasure)

    assert scan_database(marker) == []
    # every encrypted column of the person's rows is empty, history included (the date of birth
    # cannot hold a marker, so this is what proves it gone), and so is the lookup hash
    for model, filters in (
        (Person, {"id": person.pk}),
        (ConsentRecord, {"person_id": person.pk}),
        (DataSubjectRequest, {"person_id": person.pk}),
    ):
        for rows in (model.objects.filter(**filters), model.history.model.objects.filter(**filters)):
            for field in encrypted_fields(rows.model):
                assert set(rows.values_list(field.name, flat=True)) <= {None, ""}, (
                    f"{rows.model.__name__}.{field.name}"
                )
    for row in Person.history.model.objects.filter(id=person.pk):
        assert row.registration_number_hash is None
    erased = Person.objects.get(pk=person.pk)
    assert erased.is_erased and erased.date_of_birth is None and erased.registration_number_hash is None
    # non-identifying records remain for statistics
    assert (erased.age_band, erased.sex, erased.household_size) == ("18_59", "unknown", 3)
    states = dict(ConsentRecord.objects.filter(person=person).values_list("pk", "status"))
    assert states == {first.pk: "superseded", second.pk: "withdrawn", withdrawn.pk: "withdrawn"}
    assert DataSubjectRequest.objects.get(pk=erasure.pk).status == "completed"
    assert ConsentRecord.objects.get(pk=second.pk).decided_by == deciding_officer
    assert Person.history.model.objects.filter(id=person.pk).count() >= 3
    assert erased.erased_at <= timezone.now()


def test_erasure_of_a_child_clears_guardian_and_best_interests_details(org_a, child_a, gbv):
    marker = f"MARK{uuid.uuid4().hex}"
    services.consent_create(
        actor=org_a.caseworker,
        person=child_a,
        **scope(child_assent=True, guardian_name=f"Guardian {marker}", guardian_relationship="aunt"),
    )
    services.consent_create(
        actor=org_a.caseworker,
        person=child_a,
        **scope(child_assent=True, unaccompanied_or_separated=True, best_interests_reference=f"BIA {marker}"),
    )
    assert "consent_consentrecord.guardian_name" in scan_database(marker)
    services.person_erase(actor=org_a.focal_point, person=child_a)
    assert scan_database(marker) == []
