"""Writes for persons, consent records and data-subject requests. Every rule is checked here.

Roles (the caller's active membership of the organisation holding the person):
focal point and caseworker write; viewer reads — and may record a withdrawal, because a person's
withdrawal must never wait for the right colleague. Completing an erasure request is for the focal
point. A legal basis other than consent needs the ``consent.record_non_consent_basis`` permission.
"""

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, NotFound, PermissionDenied, ServiceError
from common.saving import save_with_history
from consent import cascade, keys
from consent.crypto import name_word_hashes, registration_number_hash
from consent.fields import encrypted_fields
from consent.models import (
    Channel,
    CollectionMethod,
    ConsentRecord,
    DataSubjectRequest,
    LegalBasis,
    Person,
    PersonReadLog,
    RecipientScope,
    age_band_for,
    age_on,
)
from partners.models import Location, Membership, Organisation, ServiceCategory
from partners.selectors import membership_active
from partners.vocabulary import DISCLOSURE_FIELDS, LANGUAGE_CODE, unknown_fields

JUSTIFICATION_MIN_LENGTH = 30
CLOCK_SKEW = timedelta(minutes=5)
PERSON_FIELDS = (
    "registration_number",
    "given_name",
    "family_name",
    "phone",
    "best_time_to_call",
    "preferred_language",
    "preferred_channel",
    "sex",
    "date_of_birth",
    "age_band",
    "location",
    "location_detail",
    "specific_needs",
    "protection_concerns",
    "narrative",
    "household_size",
)
# Fields a new version takes from the version it replaces unless given again.
CONSENT_VERSION_FIELDS = (
    "collection_method",
    "language",
    "interpreter_used",
    "legal_basis",
    "justification",
    "purposes",
    "recipient_scope",
    "recipients",
    "data_categories",
    "expires_on",
    "child_assent",
    "guardian_name",
    "guardian_relationship",
    "unaccompanied_or_separated",
    "best_interests_reference",
)


# Roles -------------------------------------------------------------------------------------


def _membership_of(actor, organisation: Organisation) -> Membership:
    """The actor's membership of ``organisation``; anyone else gets "not found", never a hint."""
    membership = membership_active(user=actor)
    if membership is None or membership.organisation_id != organisation.pk or not actor.is_active:
        raise NotFound("Not found.")
    return membership


def _require_writer(actor, organisation: Organisation) -> Membership:
    membership = _membership_of(actor, organisation)
    if membership.role not in (Membership.Role.FOCAL_POINT, Membership.Role.CASEWORKER):
        raise PermissionDenied(
            "Viewers may read persons and consents but not record them.", code="write_role_required"
        )
    return membership


# Persons -----------------------------------------------------------------------------------


def _clean_person_fields(person: Person, fields: dict, organisation: Organisation) -> None:
    if unexpected := set(fields) - set(PERSON_FIELDS):
        raise ServiceError(f"Unknown person fields: {', '.join(sorted(unexpected))}.", code="unknown_field")
    for name, value in fields.items():
        setattr(person, name, value)
    today = timezone.localdate()
    if person.date_of_birth:
        if person.date_of_birth > today:
            raise ServiceError(
                "The date of birth is in the future.", code="invalid_date_of_birth", field="date_of_birth"
            )
        derived = age_band_for(age_on(person.date_of_birth, today))
        if fields.get("age_band") and fields["age_band"] != derived:
            raise ServiceError(
                f"The age band does not match the date of birth (expected {derived}).",
                code="age_band_mismatch",
                field="age_band",
            )
        person.age_band = derived
    if not person.age_band:
        raise ServiceError(
            "Give the date of birth or, when it is not known, the age band.",
            code="age_required",
            field="age_band",
        )
    if person.preferred_language and not LANGUAGE_CODE.match(person.preferred_language):
        raise ServiceError(
            "The preferred language must be an ISO 639 code such as 'ar' or 'fr'.",
            code="invalid_language",
            field="preferred_language",
        )
    if person.specific_needs is not None and (
        not isinstance(person.specific_needs, list)
        or not all(isinstance(n, str) for n in person.specific_needs)
    ):
        raise ServiceError("Specific needs are a list of codes.", code="invalid", field="specific_needs")
    if isinstance(person.location, Location) and person.location.operation_id != organisation.operation_id:
        raise ServiceError(
            "The location is not in this operation.", code="unknown_location", field="location"
        )
    if {"given_name", "family_name"} & set(fields):
        person.name_hashes = name_word_hashes(person.given_name, person.family_name)
    if "registration_number" in fields:
        number = (person.registration_number or "").strip()
        person.registration_number = number or None
        person.registration_number_hash = registration_number_hash(number) if number else None


def _save_person(person: Person, actor) -> None:
    try:
        with transaction.atomic():
            save_with_history(person, actor)
    except IntegrityError as exc:
        raise Conflict(
            "A person with this registration number is already registered.",
            code="duplicate_registration_number",
            field="registration_number",
        ) from exc


@transaction.atomic
def person_create(*, actor, **fields) -> Person:
    membership = membership_active(user=actor)
    if membership is None:
        raise PermissionDenied(
            "Only members of an organisation may register persons.", code="membership_required"
        )
    _require_writer(actor, membership.organisation)
    person = Person(organisation=membership.organisation, registered_by=actor)
    _clean_person_fields(person, fields, membership.organisation)
    if (
        person.registration_number_hash
        and Person.objects.filter(
            organisation=person.organisation, registration_number_hash=person.registration_number_hash
        ).exists()
    ):
        raise Conflict(
            "A person with this registration number is already registered.",
            code="duplicate_registration_number",
            field="registration_number",
        )
    _save_person(person, actor)
    return person


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    _require_writer(actor, person.organisation)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.is_erased:
        raise Conflict("This person's data has been erased.", code="person_erased")
    _clean_person_fields(person, fields, person.organisation)
    _save_person(person, actor)
    return person


# Consent records ---------------------------------------------------------------------------


def _clean_scope(*, purposes, recipient_scope, recipients, data_categories) -> tuple[list, list, list]:
    purposes = list(dict.fromkeys(purposes or []))
    if not purposes:
        raise ServiceError(
            "Name at least one purpose (service category).", code="purposes_required", field="purposes"
        )
    known = set(ServiceCategory.objects.filter(code__in=purposes).values_list("code", flat=True))
    if missing := [code for code in purposes if code not in known]:
        raise ServiceError(
            f"Unknown purpose: {', '.join(missing)}.",
            code="unknown_purpose",
            field="purposes",
            extra={"values": missing},
        )

    categories = list(dict.fromkeys(data_categories or []))
    if unknown := unknown_fields(categories):
        raise ServiceError(
            f"Unknown data category: {', '.join(unknown)}. Name each category from the disclosure "
            f"vocabulary ({', '.join(DISCLOSURE_FIELDS)}); there is no 'all'.",
            code="unknown_data_category",
            field="data_categories",
            extra={"values": unknown},
        )
    if not categories:
        raise ServiceError(
            "Name at least one data category.", code="data_categories_required", field="data_categories"
        )

    if recipient_scope not in RecipientScope.values:
        raise ServiceError(
            f"Recipient scope must be one of: {', '.join(RecipientScope.values)}.",
            code="invalid_recipient_scope",
            field="recipient_scope",
        )
    ids = []
    for item in recipients or []:
        try:
            ids.append(item.pk if isinstance(item, Organisation) else uuid.UUID(str(item)))
        except ValueError as exc:
            raise ServiceError(
                f"'{item}' is not an organisation id.", code="unknown_recipient", field="recipients"
            ) from exc
    ids = list(dict.fromkeys(ids))
    if recipient_scope == RecipientScope.PATHWAY:
        if ids:
            raise ServiceError(
                "With the pathway scope, do not name recipients.",
                code="recipients_with_pathway_scope",
                field="recipients",
            )
    else:
        if not ids:
            raise ServiceError(
                "Name at least one recipient organisation.", code="recipients_required", field="recipients"
            )
        found = set(Organisation.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
        if missing := [str(pk) for pk in ids if pk not in found]:
            raise ServiceError(
                f"Unknown recipient organisation: {', '.join(missing)}.",
                code="unknown_recipient",
                field="recipients",
                extra={"values": missing},
            )
    return purposes, ids, categories


def _check_legal_basis(actor, record: ConsentRecord) -> None:
    if record.legal_basis not in LegalBasis.values:
        raise ServiceError(
            f"Legal basis must be one of: {', '.join(LegalBasis.values)}.",
            code="invalid_legal_basis",
            field="legal_basis",
        )
    if record.legal_basis == LegalBasis.CONSENT:
        record.decided_by = None
        return
    if not actor.has_perm("consent.record_non_consent_basis"):
        raise PermissionDenied(
            f"Recording the legal basis '{record.legal_basis}' needs the permission to record a "
            "legal basis other than consent.",
            code="non_consent_basis_not_permitted",
            field="legal_basis",
        )
    if len((record.justification or "").strip()) < JUSTIFICATION_MIN_LENGTH:
        raise ServiceError(
            f"A legal basis other than consent needs a written justification of at least "
            f"{JUSTIFICATION_MIN_LENGTH} characters.",
            code="justification_required",
            field="justification",
        )
    record.decided_by = actor


def _check_minor(record: ConsentRecord, person: Person) -> None:
    """A child's consent: their assent, and a guardian's consent or (if alone) a BIP reference."""
    record.subject_is_minor = person.is_minor(record.obtained_at.date())
    if not record.subject_is_minor:
        return
    if record.legal_basis != LegalBasis.CONSENT:
        # Another basis stands in for consent that could not validly be obtained (the child cannot
        # assent, the guardian is the risk); its justification and decider are required, and the
        # child's best interests still need an accountable trace: the best-interests procedure
        # reference for that basis, otherwise the guardian's details or that reference.
        _check_minor_without_consent(record)
        return
    if record.child_assent is not True:
        raise ServiceError(
            "The person is a minor: record the child's assent (child_assent: true).",
            code="child_assent_missing",
            field="child_assent",
        )
    if record.unaccompanied_or_separated:
        if not (record.best_interests_reference or "").strip():
            raise ServiceError(
                "The child is unaccompanied or separated: give the best-interests procedure reference.",
                code="best_interests_reference_missing",
                field="best_interests_reference",
            )
        return
    missing = [
        name
        for name in ("guardian_name", "guardian_relationship")
        if not (getattr(record, name) or "").strip()
    ]
    if missing:
        raise ServiceError(
            "The person is a minor: a parent's or guardian's consent is needed — missing "
            f"{' and '.join(missing)} "
            "(or mark the child unaccompanied/separated and give the best-interests reference).",
            code="guardian_consent_missing",
            field=missing[0],
            extra={"missing": missing},
        )


def _check_minor_without_consent(record: ConsentRecord) -> None:
    has_reference = bool((record.best_interests_reference or "").strip())
    if record.legal_basis == LegalBasis.BEST_INTERESTS_CHILD and not has_reference:
        raise ServiceError(
            "The best interests of the child as a basis needs the best-interests procedure reference.",
            code="best_interests_reference_missing",
            field="best_interests_reference",
        )
    has_guardian = bool((record.guardian_name or "").strip() and (record.guardian_relationship or "").strip())
    if not (has_reference or has_guardian):
        raise ServiceError(
            "The person is a minor: with a basis other than consent, give the best-interests procedure "
            "reference or the guardian's name and relationship.",
            code="best_interests_reference_missing",
            field="best_interests_reference",
            extra={"missing": ["best_interests_reference", "guardian_name", "guardian_relationship"]},
        )


def _build_record(*, actor, person: Person, data: dict) -> ConsentRecord:
    if person.is_erased:
        raise Conflict("This person's data has been erased.", code="person_erased")
    obtained_at = data.get("obtained_at") or timezone.now()
    if obtained_at > timezone.now() + CLOCK_SKEW:
        raise ServiceError(
            "Consent cannot be obtained in the future.", code="obtained_in_future", field="obtained_at"
        )
    if data.get("collection_method") not in CollectionMethod.values:
        raise ServiceError(
            f"Collection method must be one of: {', '.join(CollectionMethod.values)}.",
            code="invalid_collection_method",
            field="collection_method",
        )
    language = data.get("language") or ""
    if not LANGUAGE_CODE.match(language):
        raise ServiceError(
            "Give the language the consent was given in as an ISO 639 code such as 'ar'.",
            code="invalid_language",
            field="language",
        )
    expires_on: date | None = data.get("expires_on")
    if expires_on is None:
        raise ServiceError(
            "Give the date until which the consent is valid.", code="expiry_required", field="expires_on"
        )
    if expires_on < max(timezone.localdate(), obtained_at.date()):
        raise ServiceError(
            "The expiry date is in the past.", code="consent_expiry_in_past", field="expires_on"
        )
    purposes, recipients, categories = _clean_scope(
        purposes=data.get("purposes"),
        recipient_scope=data.get("recipient_scope"),
        recipients=data.get("recipients"),
        data_categories=data.get("data_categories"),
    )
    record = ConsentRecord(
        person=person,
        organisation=person.organisation,
        obtained_by=actor,
        obtained_at=obtained_at,
        collection_method=data["collection_method"],
        language=language,
        interpreter_used=bool(data.get("interpreter_used", False)),
        legal_basis=data.get("legal_basis") or LegalBasis.CONSENT,
        justification=(data.get("justification") or "").strip(),
        purposes=purposes,
        recipient_scope=data["recipient_scope"],
        recipients=recipients,
        data_categories=categories,
        expires_on=expires_on,
        child_assent=data.get("child_assent"),
        guardian_name=(data.get("guardian_name") or "").strip(),
        guardian_relationship=(data.get("guardian_relationship") or "").strip(),
        unaccompanied_or_separated=bool(data.get("unaccompanied_or_separated", False)),
        best_interests_reference=(data.get("best_interests_reference") or "").strip(),
    )
    _check_legal_basis(actor, record)
    _check_minor(record, person)
    return record


@transaction.atomic
def consent_create(*, actor, person: Person, **data) -> ConsentRecord:
    """Record a person's consent (or another legal basis) with its scope."""
    _require_writer(actor, person.organisation)
    # lock the person: an erasure running at the same time must not leave a fresh consent behind
    person = Person.objects.select_for_update().get(pk=person.pk)
    record = _build_record(actor=actor, person=person, data=data)
    save_with_history(record, actor)
    return record


@transaction.atomic
def consent_new_version(*, actor, previous: ConsentRecord, **changes) -> ConsentRecord:
    """Change the scope (or renew): a new record replaces ``previous``, which becomes superseded."""
    _require_writer(actor, previous.organisation)
    # lock person, then record (the order erasure uses): a withdrawal, an erasure or another new
    # version may race with this one
    person = Person.objects.select_for_update().get(pk=previous.person_id)
    previous = ConsentRecord.objects.select_for_update().get(pk=previous.pk)
    if previous.status == ConsentRecord.Status.WITHDRAWN:
        raise Conflict(
            "A withdrawn consent cannot get a new version; record a new consent.", code="consent_withdrawn"
        )
    if previous.status == ConsentRecord.Status.SUPERSEDED:
        raise Conflict(
            "This version has already been replaced; make the new version from the current one.",
            code="consent_already_superseded",
        )
    data = {name: getattr(previous, name) for name in CONSENT_VERSION_FIELDS}
    data.update(changes)
    record = _build_record(actor=actor, person=person, data=data)
    record.version = previous.version + 1
    record.supersedes = previous
    previous.status = ConsentRecord.Status.SUPERSEDED
    previous.superseded_at = timezone.now()
    save_with_history(previous, actor, update_fields=["status", "superseded_at"])
    save_with_history(record, actor)
    # a narrower scope is a partial withdrawal: what rests on the old scope and is no longer
    # covered must go the way of a withdrawn consent, in this same transaction
    cascade.run_scope_change_handlers(previous=previous, record=record, actor=actor)
    return record


@transaction.atomic
def consent_withdraw(*, actor, record: ConsentRecord, channel: str, reason: str = "") -> ConsentRecord:
    """Withdraw consent and run the cascade (referrals, grants, shared copies) in this one transaction."""
    _membership_of(actor, record.organisation)
    _check_staff_channel(channel)
    return _withdraw(record, actor=actor, channel=channel, reason=reason)


@transaction.atomic
def consent_withdraw_by_person(*, person: Person, record: ConsentRecord, reason: str = "") -> ConsentRecord:
    """The person withdraws their own consent (the status page): the same withdrawal and cascade,
    with no member of staff as its author — the channel ``self_service`` says who acted. Another
    person's record answers "not found"."""
    if record.person_id != person.pk:
        raise NotFound("Not found.")
    return _withdraw(record, actor=None, channel=Channel.SELF_SERVICE, reason=reason)


def _check_staff_channel(channel: str) -> None:
    if channel not in Channel.staff_values():
        raise ServiceError(
            f"Channel must be one of: {', '.join(Channel.staff_values())}.",
            code="invalid_channel",
            field="channel",
        )


def _withdraw(record: ConsentRecord, *, actor, channel: str, reason: str) -> ConsentRecord:
    record = ConsentRecord.objects.select_for_update().get(pk=record.pk)
    if record.status == ConsentRecord.Status.WITHDRAWN:
        raise Conflict("This consent has already been withdrawn.", code="consent_already_withdrawn")
    if record.status == ConsentRecord.Status.SUPERSEDED:
        raise Conflict(
            "This version has been replaced; withdraw the current version (its withdrawal covers this one).",
            code="consent_superseded",
            extra={"current": str(record.superseded_by.pk)},
        )
    record.status = ConsentRecord.Status.WITHDRAWN
    record.withdrawn_at = timezone.now()
    record.withdrawn_by = actor
    record.withdrawal_channel = channel
    record.withdrawal_reason = (reason or "").strip()
    save_with_history(
        record,
        actor,
        update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawal_channel", "withdrawal_reason"],
    )
    cascade.run_withdrawal_handlers(record=record, actor=actor)
    return record


# Data-subject requests ---------------------------------------------------------------------


@transaction.atomic
def data_subject_request_create(
    *,
    actor,
    person: Person,
    kind: str,
    channel: str,
    received_on: date | None = None,
    due_on: date | None = None,
    details: str = "",
) -> DataSubjectRequest:
    _require_writer(actor, person.organisation)
    _check_staff_channel(channel)
    return _request_create(
        person,
        actor=actor,
        kind=kind,
        channel=channel,
        received_on=received_on,
        due_on=due_on,
        details=details,
    )


@transaction.atomic
def data_subject_request_create_by_person(
    *, person: Person, kind: str, details: str = ""
) -> DataSubjectRequest:
    """The person asks, on the status page, for a copy of their data, a correction or erasure: a
    request of the organisation holding them, received today, due by the usual delay, with no
    member of staff as its author (channel ``self_service``)."""
    return _request_create(person, actor=None, kind=kind, channel=Channel.SELF_SERVICE, details=details)


def _request_create(person: Person, *, actor, kind, channel, received_on=None, due_on=None, details=""):
    if kind not in DataSubjectRequest.Kind.values:
        raise ServiceError(
            f"Kind must be one of: {', '.join(DataSubjectRequest.Kind.values)}.",
            code="invalid_kind",
            field="kind",
        )
    person = Person.objects.select_for_update().get(pk=person.pk)
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ServiceError(
            "The request cannot be received in the future.", code="received_in_future", field="received_on"
        )
    due_on = due_on or received_on + timedelta(days=settings.DATA_SUBJECT_REQUEST_DUE_DAYS)
    if due_on < received_on:
        raise ServiceError(
            "The due date is before the date received.", code="due_before_received", field="due_on"
        )
    if person.is_erased and kind != DataSubjectRequest.Kind.ACCESS:
        raise Conflict("This person's data has already been erased.", code="person_erased")
    _no_free_text_after_erasure(person, details, "details")
    request = DataSubjectRequest(
        person=person,
        organisation=person.organisation,
        kind=kind,
        channel=channel,
        received_on=received_on,
        due_on=due_on,
        details=(details or "").strip(),
        recorded_by=actor,
    )
    save_with_history(request, actor)
    return request


def _no_free_text_after_erasure(person: Person, text: str, field: str) -> None:
    """An erased person's data key is destroyed: nothing written about them could be sealed."""
    if person.is_erased and (text or "").strip():
        raise Conflict(
            "This person's data has been erased: free text about them can no longer be stored; "
            "record the request without it.",
            code="person_erased",
            field=field,
        )


def _lock_open_request(request: DataSubjectRequest) -> DataSubjectRequest:
    request = DataSubjectRequest.objects.select_for_update().select_related("person").get(pk=request.pk)
    if request.status != DataSubjectRequest.Status.OPEN:
        raise Conflict(f"This request is already {request.status}.", code="request_closed")
    return request


@transaction.atomic
def data_subject_request_complete(
    *, actor, request: DataSubjectRequest, outcome: str = "", corrections: dict | None = None
) -> tuple[DataSubjectRequest, dict | None]:
    """Act on the request: access → the export (returned), correction → apply, erasure → erase."""
    membership = _require_writer(actor, request.organisation)
    request = _lock_open_request(request)
    kind = request.kind
    if kind == DataSubjectRequest.Kind.ERASURE and membership.role != Membership.Role.FOCAL_POINT:
        raise PermissionDenied(
            "Only the organisation's focal point may carry out an erasure.", code="focal_point_required"
        )
    if kind == DataSubjectRequest.Kind.CORRECTION:
        if not corrections:
            raise ServiceError("Give the corrected values.", code="corrections_required", field="corrections")
        person_update(actor=actor, person=request.person, **corrections)
    elif corrections:
        raise ServiceError(
            "Corrections belong to a correction request.", code="unexpected_corrections", field="corrections"
        )
    _no_free_text_after_erasure(request.person, outcome, "outcome")
    request.status = DataSubjectRequest.Status.COMPLETED
    request.handler = actor
    request.closed_at = timezone.now()
    request.outcome = (outcome or "").strip()
    save_with_history(request, actor, update_fields=["status", "handler", "closed_at", "outcome"])
    export = None
    if kind == DataSubjectRequest.Kind.ACCESS:
        export = person_export(person=request.person, actor=actor)
    elif kind == DataSubjectRequest.Kind.ERASURE:
        person_erase(actor=actor, person=request.person, channel=request.channel)
        request.refresh_from_db()
    return request, export


@transaction.atomic
def data_subject_request_reject(*, actor, request: DataSubjectRequest, outcome: str) -> DataSubjectRequest:
    _require_writer(actor, request.organisation)
    request = _lock_open_request(request)
    if len((outcome or "").strip()) < 10:
        raise ServiceError("Say why the request is rejected.", code="outcome_required", field="outcome")
    _no_free_text_after_erasure(request.person, outcome, "outcome")
    request.status = DataSubjectRequest.Status.REJECTED
    request.handler = actor
    request.closed_at = timezone.now()
    request.outcome = outcome.strip()
    save_with_history(request, actor, update_fields=["status", "handler", "closed_at", "outcome"])
    return request


# Access export and erasure -----------------------------------------------------------------


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _row(instance, names) -> dict:
    return {name: _plain(getattr(instance, name)) for name in names}


def person_export(*, person: Person, actor=None) -> dict:
    """Everything held about the person, machine-readable (subject access). Apps add sections."""
    person = Person.objects.select_related("organisation", "location").get(pk=person.pk)
    consents = ConsentRecord.objects.filter(person=person).order_by("obtained_at", "version")
    requests = DataSubjectRequest.objects.filter(person=person).order_by("received_on", "created_at")
    data = {
        "schema": "referral-hub/subject-access/1",
        "generated_at": timezone.now().isoformat(),
        "person": {
            "id": str(person.id),
            "organisation": {"id": str(person.organisation_id), "name": person.organisation.name},
            **_row(person, [name for name in PERSON_FIELDS if name != "location"]),
            "location": person.location.name if person.location else None,
            "created_at": person.created_at.isoformat(),
            "erased_at": _plain(person.erased_at),
        },
        "consents": [
            {
                "id": str(record.id),
                "version": record.version,
                "supersedes": _plain(record.supersedes_id),
                "state": record.state,
                "obtained_at": record.obtained_at.isoformat(),
                **_row(
                    record,
                    (
                        "collection_method",
                        "language",
                        "interpreter_used",
                        "legal_basis",
                        "justification",
                        "purposes",
                        "recipient_scope",
                        "recipients",
                        "data_categories",
                        "expires_on",
                        "child_assent",
                        "guardian_name",
                        "guardian_relationship",
                        "unaccompanied_or_separated",
                        "best_interests_reference",
                        "withdrawn_at",
                        "withdrawal_channel",
                        "withdrawal_reason",
                        "superseded_at",
                    ),
                ),
            }
            for record in consents
        ],
        "data_subject_requests": [
            {
                "id": str(r.id),
                **_row(
                    r,
                    ("kind", "channel", "received_on", "due_on", "status", "details", "outcome", "closed_at"),
                ),
            }
            for r in requests
        ],
    }
    data.update(cascade.run_access_exporters(person=person, actor=actor))
    return data


def _scrub_history(model, **filters) -> None:
    """Clear the personal columns of every historical row (simple-history) of the filtered objects."""
    history = model.history.model
    names = [f.name for f in encrypted_fields(history)] + [
        name
        for name in getattr(model, "PERSONAL_FIELDS", ())
        if name not in {f.name for f in encrypted_fields(model)}
    ]
    # history rows are not tracked models: a bulk update here writes no new history
    history.objects.filter(**filters).update(**dict.fromkeys(names))


@transaction.atomic
def person_erase(*, actor, person: Person, channel: str = Channel.WRITTEN) -> Person:
    """Erase the person's personal data everywhere (history included), keeping non-identifying rows.

    Active consents are withdrawn first (their cascade runs), then the erasure handlers of other
    apps, then the person's, consents' and requests' personal columns and their history rows; last,
    the person's data key is destroyed, so that copies of their values made before cannot be read
    any more (a backup that also holds the key table as it was: once its master key is retired —
    docs/operations.md, "What erasure destroys").
    """
    membership = _membership_of(actor, person.organisation)
    if membership.role != Membership.Role.FOCAL_POINT:
        raise PermissionDenied(
            "Only the organisation's focal point may carry out an erasure.", code="focal_point_required"
        )
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.is_erased:
        raise Conflict("This person's data has already been erased.", code="person_erased")
    for record in ConsentRecord.objects.filter(person=person, status=ConsentRecord.Status.ACTIVE):
        # the request's channel, whoever took it (the person's own door included)
        _withdraw(record, actor=actor, channel=channel, reason="")
    cascade.run_erasure_handlers(person=person, actor=actor)

    for name in Person.PERSONAL_FIELDS:
        setattr(person, name, None)
    person.erased_at = timezone.now()
    save_with_history(person, actor, update_fields=[*Person.PERSONAL_FIELDS, "erased_at", "updated_at"])
    for record in ConsentRecord.objects.filter(person=person):
        for name in ConsentRecord.PERSONAL_FIELDS:
            setattr(record, name, None)
        save_with_history(record, actor, update_fields=list(ConsentRecord.PERSONAL_FIELDS))
    for request in DataSubjectRequest.objects.filter(person=person):
        for name in DataSubjectRequest.PERSONAL_FIELDS:
            setattr(request, name, None)
        save_with_history(request, actor, update_fields=list(DataSubjectRequest.PERSONAL_FIELDS))

    _scrub_history(Person, id=person.pk)
    _scrub_history(ConsentRecord, person_id=person.pk)
    _scrub_history(DataSubjectRequest, person_id=person.pk)
    # crypto-shredding, in this same transaction: the rows above are cleared, but copies of their
    # old values outlive them (the write-ahead log, replicas, backups, anything exported); all of
    # them were sealed with this key, and without it they cannot be read, master keys or not
    # (where a copy of the key table from before comes with them: until its master key is retired)
    keys.destroy(person.pk)
    return person


@transaction.atomic
def person_read_log_purge(*, before) -> int:
    """Retention: forget reads of persons' data logged before ``before`` (ACCESS_LOG_RETENTION_DAYS)."""
    deleted, _ = PersonReadLog.objects.filter(at__lt=before).delete()
    return deleted


def personal_data_read(*, user, person_ids, what: str, api: str) -> None:
    """Log that ``user`` read these persons' data (``what``: person, consent or request): one bulk
    insert for the whole request; a person shown twice is one row."""
    membership = membership_active(user=user)
    organisation_id = membership.organisation_id if membership else None
    PersonReadLog.objects.bulk_create(
        PersonReadLog(person_id=person_id, user=user, organisation_id=organisation_id, what=what, api=api)
        for person_id in dict.fromkeys(person_ids)
    )
