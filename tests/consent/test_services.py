"""Rules of consent.services and ConsentRecord, called directly (test_api.py goes through HTTP)."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.errors import Conflict, NotFound, PermissionDenied, ServiceError
from consent import cascade, services
from consent.models import ConsentRecord, ConsentState, DataSubjectRequest, Person
from tests.consent.conftest import scope
from tests.factories import ConsentRecordFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def code_of(excinfo) -> str:
    return excinfo.value.code


# Legal basis -------------------------------------------------------------------------------


def test_other_legal_basis_without_justification_is_refused(deciding_officer, adult_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=deciding_officer,
            person=adult_a,
            **scope(legal_basis="vital_interest", justification="urgent"),
        )
    assert code_of(exc) == "justification_required"
    assert exc.value.field == "justification"


def test_other_legal_basis_records_who_decided(deciding_officer, adult_a, gbv):
    record = services.consent_create(
        actor=deciding_officer,
        person=adult_a,
        **scope(
            legal_basis="vital_interest", justification="Imminent risk to life; person unconscious in clinic."
        ),
    )
    assert record.decided_by == deciding_officer
    assert record.legal_basis == "vital_interest"


@pytest.mark.parametrize("basis", ["vital_interest", "best_interests_child", "mandate", "safety_of_others"])
def test_officer_without_permission_cannot_record_other_legal_basis(org_a, adult_a, gbv, basis):
    with pytest.raises(PermissionDenied) as exc:
        services.consent_create(
            actor=org_a.caseworker,
            person=adult_a,
            **scope(legal_basis=basis, justification="A long enough written justification for the decision."),
        )
    assert code_of(exc) == "non_consent_basis_not_permitted"
    assert not ConsentRecord.objects.exists()


def test_database_refuses_other_basis_without_decider(adult_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecordFactory(person=adult_a, legal_basis="mandate", decided_by=None)


# Children ----------------------------------------------------------------------------------


def test_minor_without_assent_is_refused(org_a, child_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=org_a.caseworker,
            person=child_a,
            **scope(guardian_name="Mary Akol", guardian_relationship="mother"),
        )
    assert code_of(exc) == "child_assent_missing"
    assert exc.value.field == "child_assent"


def test_minor_without_guardian_is_refused_naming_what_is_missing(org_a, child_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=org_a.caseworker, person=child_a, **scope(child_assent=True, guardian_name="Mary")
        )
    assert code_of(exc) == "guardian_consent_missing"
    assert exc.value.field == "guardian_relationship"
    assert "guardian_relationship" in exc.value.message


def test_unaccompanied_minor_needs_best_interests_reference(org_a, child_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=org_a.caseworker,
            person=child_a,
            **scope(child_assent=True, unaccompanied_or_separated=True),
        )
    assert code_of(exc) == "best_interests_reference_missing"
    record = services.consent_create(
        actor=org_a.caseworker,
        person=child_a,
        **scope(child_assent=True, unaccompanied_or_separated=True, best_interests_reference="BIA-2024-17"),
    )
    assert record.subject_is_minor


def test_minor_with_assent_and_guardian_is_recorded(org_a, child_a, gbv):
    record = services.consent_create(
        actor=org_a.caseworker,
        person=child_a,
        **scope(child_assent=True, guardian_name="Mary Akol", guardian_relationship="mother"),
    )
    assert record.subject_is_minor and record.child_assent


def test_minor_age_band_without_date_of_birth_counts_as_minor(org_a, gbv):
    person = services.person_create(actor=org_a.caseworker, given_name="Ana", age_band="12_17")
    with pytest.raises(ServiceError) as exc:
        services.consent_create(actor=org_a.caseworker, person=person, **scope())
    assert code_of(exc) == "child_assent_missing"


def test_date_of_birth_sets_the_age_band(org_a):
    person = services.person_create(actor=org_a.caseworker, date_of_birth=date(1990, 1, 1))
    assert person.age_band == "18_59"


def test_person_needs_date_of_birth_or_age_band(org_a):
    with pytest.raises(ServiceError) as exc:
        services.person_create(actor=org_a.caseworker, given_name="X")
    assert code_of(exc) == "age_required"


# Scope -------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["all", "all_fields", "health_records"])
def test_unknown_data_category_is_refused(org_a, adult_a, gbv, category):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=org_a.caseworker, person=adult_a, **scope(data_categories=["given_name", category])
        )
    assert code_of(exc) == "unknown_data_category"
    assert category in exc.value.message


def test_unknown_purpose_is_refused(org_a, adult_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(actor=org_a.caseworker, person=adult_a, **scope(purposes=["astrology"]))
    assert code_of(exc) == "unknown_purpose"


def test_named_scope_needs_known_recipients(org_a, adult_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(actor=org_a.caseworker, person=adult_a, **scope(recipient_scope="named"))
    assert code_of(exc) == "recipients_required"
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=org_a.caseworker,
            person=adult_a,
            **scope(recipient_scope="named", recipients=["00000000-0000-0000-0000-000000000001"]),
        )
    assert code_of(exc) == "unknown_recipient"


def test_expiry_in_the_past_is_refused(org_a, adult_a, gbv):
    with pytest.raises(ServiceError) as exc:
        services.consent_create(
            actor=org_a.caseworker,
            person=adult_a,
            **scope(expires_on=timezone.localdate() - timedelta(days=1)),
        )
    assert code_of(exc) == "consent_expiry_in_past"


# is_valid_for ------------------------------------------------------------------------------


def test_is_valid_for_covered_request(consent_a, org_b, gbv):
    check = consent_a.is_valid_for(gbv, org_b, ["given_name", "phone"])
    assert check.ok and check.code is None


def test_is_valid_for_names_uncovered_field(consent_a, org_b, gbv):
    check = consent_a.is_valid_for(
        "gbv_case_management", org_b, ["given_name", "narrative", "phone", "location"]
    )
    assert not check.ok
    assert check.code == "consent_not_covering_field"
    assert check.fields == ("narrative", "location")


def test_sensitive_field_is_not_covered_unless_named(consent_a, org_b):
    check = consent_a.is_valid_for("gbv_case_management", org_b, ["protection_concerns"])
    assert check.code == "consent_not_covering_field"


def test_is_valid_for_names_uncovered_purpose_and_recipient(consent_a, org_a, org_b):
    purpose = consent_a.is_valid_for("legal_aid", org_b, ["given_name"])
    assert (purpose.ok, purpose.code, purpose.purpose) == (False, "consent_not_covering_purpose", "legal_aid")
    other = OrganisationFactory()
    recipient = consent_a.is_valid_for("gbv_case_management", other, ["given_name"])
    assert (recipient.code, recipient.recipient) == ("consent_not_covering_recipient", str(other.pk))
    assert consent_a.is_valid_for("gbv_case_management", org_b.pk, ["given_name"]).ok


def test_pathway_scope_covers_any_recipient(org_a, adult_a, gbv):
    record = services.consent_create(actor=org_a.caseworker, person=adult_a, **scope())
    assert record.is_valid_for("gbv_case_management", OrganisationFactory(), ["phone"]).ok


def test_consent_past_expiry_is_not_valid_even_without_a_job(adult_a, org_b):
    record = ConsentRecordFactory(
        person=adult_a,
        obtained_at=timezone.now() - timedelta(days=60),
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    assert record.status == ConsentRecord.Status.ACTIVE  # nothing changed the stored status
    check = record.is_valid_for("gbv_case_management", org_b, ["given_name"])
    assert (check.ok, check.code) == (False, "consent_expired")
    assert record.state == ConsentState.EXPIRED
    assert ConsentRecord.objects.with_state().get(pk=record.pk).state == ConsentState.EXPIRED
    assert not ConsentRecord.objects.in_force().filter(pk=record.pk).exists()


def test_consent_is_valid_on_its_last_day(consent_a, org_b):
    assert consent_a.is_valid_for("gbv_case_management", org_b, ["phone"], on=consent_a.expires_on).ok
    late = consent_a.is_valid_for(
        "gbv_case_management", org_b, ["phone"], on=consent_a.expires_on + timedelta(1)
    )
    assert late.code == "consent_expired"


# Immutability and versions -----------------------------------------------------------------


def test_saving_a_changed_scope_in_place_fails(consent_a):
    consent_a.data_categories = ["given_name", "phone", "narrative"]
    with pytest.raises(Conflict) as exc:
        consent_a.save()
    assert code_of(exc) == "consent_record_immutable"
    consent_a.refresh_from_db()
    assert "narrative" not in consent_a.data_categories


def test_database_refuses_scope_update_that_bypasses_python(consent_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=consent_a.pk).update(data_categories=["narrative"])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_consentrecord SET expires_on = expires_on + 365 WHERE id = %s", [consent_a.pk]
        )
    consent_a.refresh_from_db()
    assert consent_a.data_categories == ["given_name", "phone", "sex"]


def test_database_refuses_reactivating_a_withdrawn_record(org_a, consent_a):
    services.consent_withdraw(actor=org_a.caseworker, record=consent_a, channel="phone")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=consent_a.pk).update(status="active", withdrawn_at=None)


def test_new_version_supersedes_the_old_one(org_a, consent_a, legal):
    new = services.consent_new_version(
        actor=org_a.caseworker, previous=consent_a, purposes=["gbv_case_management", "legal_aid"]
    )
    consent_a.refresh_from_db()
    assert consent_a.status == ConsentRecord.Status.SUPERSEDED and consent_a.superseded_at
    assert (new.version, new.supersedes_id, new.status) == (2, consent_a.pk, "active")
    assert new.data_categories == consent_a.data_categories  # unchanged parts carried over
    assert not consent_a.is_valid_for("gbv_case_management", new.recipients[0], ["phone"]).ok
    assert new.lineage_ids() == [new.pk, consent_a.pk]
    with pytest.raises(Conflict) as exc:
        services.consent_new_version(actor=org_a.caseworker, previous=consent_a, purposes=["legal_aid"])
    assert code_of(exc) == "consent_already_superseded"


def test_new_version_validates_like_a_new_record(org_a, consent_a):
    with pytest.raises(ServiceError) as exc:
        services.consent_new_version(
            actor=org_a.caseworker, previous=consent_a, data_categories=["everything"]
        )
    assert code_of(exc) == "unknown_data_category"
    consent_a.refresh_from_db()
    assert consent_a.status == "active"


# Withdrawal --------------------------------------------------------------------------------


@pytest.fixture
def registered_withdrawal_handler():
    calls = []

    def handler(*, record, lineage, actor):
        calls.append((record.pk, list(lineage), actor))

    cascade.register_withdrawal_handler(handler)
    yield calls
    cascade.unregister_withdrawal_handler(handler)


def test_withdrawal_marks_the_record_and_runs_the_cascade(org_a, consent_a, registered_withdrawal_handler):
    record = services.consent_withdraw(
        actor=org_a.caseworker, record=consent_a, channel="hotline", reason="Moved away"
    )
    record.refresh_from_db()
    assert (record.status, record.withdrawal_channel, record.withdrawn_by) == (
        "withdrawn",
        "hotline",
        org_a.caseworker,
    )
    assert record.withdrawal_reason == "Moved away"
    assert registered_withdrawal_handler == [(consent_a.pk, [consent_a.pk], org_a.caseworker)]


def test_withdrawal_cascade_sees_earlier_versions(org_a, consent_a, registered_withdrawal_handler):
    new = services.consent_new_version(actor=org_a.caseworker, previous=consent_a, data_categories=["phone"])
    services.consent_withdraw(actor=org_a.caseworker, record=new, channel="written")
    assert registered_withdrawal_handler[0][1] == [new.pk, consent_a.pk]


def test_withdrawal_rolls_back_when_a_handler_fails(org_a, consent_a):
    ran = []

    def first(**kwargs):
        ran.append("first")
        # a write that must be undone too
        Person.objects.filter(pk=kwargs["record"].person_id).update(household_size=9)

    def failing(**kwargs):
        raise RuntimeError("grant revocation failed")

    cascade.register_withdrawal_handler(first)
    cascade.register_withdrawal_handler(failing)
    try:
        with pytest.raises(RuntimeError):
            services.consent_withdraw(actor=org_a.caseworker, record=consent_a, channel="phone")
    finally:
        cascade.unregister_withdrawal_handler(first)
        cascade.unregister_withdrawal_handler(failing)
    assert ran == ["first"]
    consent_a.refresh_from_db()
    assert consent_a.status == "active" and consent_a.withdrawn_at is None
    assert Person.objects.get(pk=consent_a.person_id).household_size is None
    assert consent_a.history.count() == 1


def test_withdrawing_twice_is_a_conflict(org_a, consent_a):
    services.consent_withdraw(actor=org_a.caseworker, record=consent_a, channel="phone")
    with pytest.raises(Conflict) as exc:
        services.consent_withdraw(actor=org_a.caseworker, record=consent_a, channel="phone")
    assert code_of(exc) == "consent_already_withdrawn"


def test_a_viewer_may_record_a_withdrawal_but_not_a_consent(viewer_a, adult_a, consent_a):
    with pytest.raises(PermissionDenied):
        services.consent_create(actor=viewer_a, person=adult_a, **scope())
    assert (
        services.consent_withdraw(actor=viewer_a, record=consent_a, channel="in_person").status == "withdrawn"
    )


def test_expired_consent_can_still_be_withdrawn(org_a, adult_a):
    record = ConsentRecordFactory(
        person=adult_a,
        obtained_at=timezone.now() - timedelta(days=9),
        expires_on=timezone.localdate() - timedelta(1),
    )
    assert (
        services.consent_withdraw(actor=org_a.caseworker, record=record, channel="phone").status
        == "withdrawn"
    )


def test_another_organisation_cannot_touch_a_consent(org_b, consent_a, adult_a):
    with pytest.raises(NotFound):
        services.consent_withdraw(actor=org_b.focal_point, record=consent_a, channel="phone")
    with pytest.raises(NotFound):
        services.consent_create(actor=org_b.focal_point, person=adult_a, **scope())
    with pytest.raises(NotFound):
        services.person_update(actor=org_b.focal_point, person=adult_a, phone="1")


# Persons -----------------------------------------------------------------------------------


def test_registration_number_is_unique_in_an_organisation(org_a, org_b, adult_a):
    with pytest.raises(Conflict) as exc:
        services.person_create(actor=org_a.caseworker, registration_number="kak 23 000101", age_band="18_59")
    assert code_of(exc) == "duplicate_registration_number"
    services.person_create(actor=org_b.caseworker, registration_number="KAK-23-000101", age_band="18_59")


# Data-subject requests ---------------------------------------------------------------------


def test_request_due_date_defaults_to_configured_days(org_a, adult_a, settings):
    request = services.data_subject_request_create(
        actor=org_a.caseworker,
        person=adult_a,
        kind="access",
        channel="in_person",
        received_on=date(2025, 3, 1),
    )
    assert request.due_on == date(2025, 3, 31)
    settings.DATA_SUBJECT_REQUEST_DUE_DAYS = 10
    request = services.data_subject_request_create(
        actor=org_a.caseworker, person=adult_a, kind="erasure", channel="phone", received_on=date(2025, 3, 1)
    )
    assert request.due_on == date(2025, 3, 11)
    assert request.is_overdue()


def test_access_request_exports_everything_including_registered_sections(org_a, adult_a, consent_a):
    # a section of its own: the real "referrals" exporter stays registered for the other tests
    cascade.register_access_exporter("test_section", lambda *, person, actor: [{"person": str(person.pk)}])
    try:
        request = services.data_subject_request_create(
            actor=org_a.caseworker, person=adult_a, kind="access", channel="written", details="Wants a copy"
        )
        completed, export = services.data_subject_request_complete(actor=org_a.caseworker, request=request)
    finally:
        cascade.unregister_access_exporter("test_section")
    assert completed.status == "completed" and completed.handler == org_a.caseworker
    assert export["person"]["phone"] == "+254 711 222 333"
    assert export["person"]["registration_number"] == "KAK-23-000101"
    assert [c["id"] for c in export["consents"]] == [str(consent_a.pk)]
    assert export["data_subject_requests"][0]["details"] == "Wants a copy"
    assert export["test_section"] == [{"person": str(adult_a.pk)}]
    assert export["referrals"] == []  # the referrals app's own section, registered at start-up


def test_correction_request_applies_the_correction(org_a, adult_a):
    request = services.data_subject_request_create(
        actor=org_a.caseworker, person=adult_a, kind="correction", channel="phone"
    )
    services.data_subject_request_complete(
        actor=org_a.caseworker, request=request, corrections={"phone": "+254 799 000 000"}
    )
    adult_a.refresh_from_db()
    assert adult_a.phone == "+254 799 000 000"
    with pytest.raises(Conflict):
        services.data_subject_request_complete(
            actor=org_a.caseworker, request=request, corrections={"phone": "1"}
        )


def test_only_the_focal_point_carries_out_an_erasure(org_a, adult_a):
    request = services.data_subject_request_create(
        actor=org_a.caseworker, person=adult_a, kind="erasure", channel="written"
    )
    with pytest.raises(PermissionDenied):
        services.data_subject_request_complete(actor=org_a.caseworker, request=request)
    assert DataSubjectRequest.objects.get(pk=request.pk).status == "open"
    services.data_subject_request_complete(actor=org_a.focal_point, request=request)
    adult_a.refresh_from_db()
    assert adult_a.is_erased and adult_a.given_name is None


def test_erasure_withdraws_consents_and_runs_erasure_handlers(
    org_a, adult_a, consent_a, registered_withdrawal_handler
):
    erased = []
    handler = cascade.register_erasure_handler(lambda *, person, actor: erased.append(person.pk))
    try:
        services.person_erase(actor=org_a.focal_point, person=adult_a)
    finally:
        cascade.unregister_erasure_handler(handler)
    consent_a.refresh_from_db()
    assert consent_a.status == "withdrawn"
    assert registered_withdrawal_handler[0][0] == consent_a.pk
    assert erased == [adult_a.pk]
    with pytest.raises(Conflict):
        services.consent_create(actor=org_a.caseworker, person=adult_a, **scope())


JUSTIFICATION = "The guardian is the alleged perpetrator; decided with the child protection lead."


@pytest.mark.parametrize(
    ("basis", "details", "missing"),
    [
        ("vital_interest", {}, "best_interests_reference_missing"),
        (
            "best_interests_child",
            {"guardian_name": "Aunt", "guardian_relationship": "aunt"},
            "best_interests_reference_missing",
        ),
        ("vital_interest", {"guardian_name": "Aunt", "guardian_relationship": "aunt"}, None),
        ("best_interests_child", {"best_interests_reference": "BIA-2026-7"}, None),
    ],
)
def test_minor_under_another_basis_still_needs_an_accountable_trace(
    deciding_officer, child_a, gbv, basis, details, missing
):
    arguments = scope(legal_basis=basis, justification=JUSTIFICATION, **details)
    if missing:
        with pytest.raises(ServiceError) as exc:
            services.consent_create(actor=deciding_officer, person=child_a, **arguments)
        assert code_of(exc) == missing
        assert not ConsentRecord.objects.exists()
    else:
        record = services.consent_create(actor=deciding_officer, person=child_a, **arguments)
        assert record.subject_is_minor and record.child_assent is not True
