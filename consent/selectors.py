"""Reads scoped to the caller's organisation. Persons and consents never leave the organisation
that holds them: another organisation's rows are simply not in these querysets (→ 404)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from consent.crypto import name_word_hashes, registration_number_hash
from consent.models import ConsentRecord, DataSubjectRequest, Person
from partners.models import Membership
from partners.selectors import membership_active

READ_ROLES = frozenset({Membership.Role.FOCAL_POINT, Membership.Role.CASEWORKER, Membership.Role.VIEWER})
WRITE_ROLES = frozenset({Membership.Role.FOCAL_POINT, Membership.Role.CASEWORKER})


def _organisation_id(user: AbstractBaseUser):
    membership = membership_active(user=user)
    if membership is None or membership.role not in READ_ROLES or not user.is_active:
        return None
    return membership.organisation_id


def person_list_visible(*, user: AbstractBaseUser) -> QuerySet[Person]:
    organisation_id = _organisation_id(user)
    if organisation_id is None:
        return Person.objects.none()
    return Person.objects.filter(organisation_id=organisation_id).select_related("location")


def person_find_by_registration_number(
    *, user: AbstractBaseUser, registration_number: str
) -> QuerySet[Person]:
    """Exact lookup through the keyed hash (the encrypted column cannot be searched)."""
    return person_list_visible(user=user).filter(
        registration_number_hash=registration_number_hash(registration_number)
    )


def person_find_by_name(*, user: AbstractBaseUser, name: str) -> QuerySet[Person]:
    """Persons whose given and family names hold every word of ``name`` (whole words, any order,
    case and accents ignored), through the keyed word hashes: no name is opened to search."""
    hashes = name_word_hashes(name)
    if not hashes:
        return Person.objects.none()
    return person_list_visible(user=user).filter(name_hashes__contains=hashes)


def consent_list_visible(*, user: AbstractBaseUser) -> QuerySet[ConsentRecord]:
    organisation_id = _organisation_id(user)
    if organisation_id is None:
        return ConsentRecord.objects.none()
    return (
        ConsentRecord.objects.filter(organisation_id=organisation_id)
        .with_state()
        .select_related("organisation", "obtained_by", "decided_by", "withdrawn_by", "superseded_by")
    )


def consents_for_person(*, person: Person) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(person=person).with_state().order_by("obtained_at", "version")


def data_subject_request_list_visible(*, user: AbstractBaseUser) -> QuerySet[DataSubjectRequest]:
    organisation_id = _organisation_id(user)
    if organisation_id is None:
        return DataSubjectRequest.objects.none()
    return DataSubjectRequest.objects.filter(organisation_id=organisation_id).select_related(
        "recorded_by", "handler"
    )
