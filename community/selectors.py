"""Reads of the person's door, each for the one person of the session (never anyone else's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from common.errors import NotFound
from community.models import PersonSession
from consent.models import ConsentRecord, DataSubjectRequest
from partners.models import Organisation, Phone, Service
from pathways.selectors import pathway_alternatives
from referrals.facts import PersonFacts, person_facts
from referrals.models import Referral


def person_session_get(*, session_id) -> PersonSession:
    """The live session with this id, or "not found" (unknown, ended, expired, or its reference
    locked since — locking ends the sessions)."""
    if not session_id:
        raise NotFound("Not found.")
    session = (
        PersonSession.objects.select_related("person")
        .filter(pk=session_id, ended_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if session is None or session.person.is_erased:
        raise NotFound("Not found.")
    return session


@dataclass(frozen=True)
class Contacts:
    """A service's or an organisation's public contact details, from the directory."""

    name: str
    organisation: str
    phones: tuple[str, ...]
    email: str
    url: str
    places: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonReferral:
    facts: PersonFacts
    service: Contacts
    referred_by: Contacts
    alternatives: tuple[Contacts, ...] = field(default_factory=tuple)


def _phones_prefetch() -> Prefetch:
    return Prefetch("phones", queryset=Phone.objects.only("id", "number", "service_id", "organisation_id"))


def _service_contacts(service: Service) -> Contacts:
    return Contacts(
        name=service.name,
        organisation=service.organisation.name,
        phones=tuple(phone.number for phone in service.phones.all())
        or tuple(phone.number for phone in service.organisation.phones.all()),
        email=service.email or service.organisation.email,
        url=service.url or service.organisation.website,
        places=tuple(location.name for location in service.locations.all()),
    )


def _organisation_contacts(organisation: Organisation) -> Contacts:
    return Contacts(
        name=organisation.name,
        organisation=organisation.name,
        phones=tuple(phone.number for phone in organisation.phones.all()),
        email=organisation.email,
        url=organisation.website,
    )


def person_referrals(*, session: PersonSession) -> list[PersonReferral]:
    """The person's own referrals, newest first, each as the person's facts allow, with the
    receiving service's public contact details and, while it matters, other services of the same
    kind. Only what ``person_facts`` reads is loaded: no payload, no note is even decrypted."""
    referrals = (
        Referral.objects.filter(person_id=session.person_id)
        .only(
            "id",
            "reference",
            "person_id",
            "status",
            "to_service_id",
            "created_at",
            "due_by",
            "updated_at",
            "from_organisation_id",
        )
        .select_related("from_organisation")
        .prefetch_related(
            Prefetch(
                "to_service",
                queryset=Service.objects.select_related("organisation", "category").prefetch_related(
                    _phones_prefetch(), "locations", Prefetch("organisation__phones")
                ),
            ),
            Prefetch("from_organisation__phones"),
        )
        .order_by("-created_at", "-id")
    )
    shown = []
    for referral in referrals:
        facts = person_facts(referral, session.person_id)
        if facts is None:  # never: the query is the person's own; the facts say so once more
            continue
        alternatives = ()
        if facts.show_alternatives:
            offers = pathway_alternatives(service=referral.to_service, profile={})
            alternatives = tuple(_service_contacts(offer.service) for offer in offers[:3])
        shown.append(
            PersonReferral(
                facts=facts,
                service=_service_contacts(referral.to_service),
                referred_by=_organisation_contacts(referral.from_organisation),
                alternatives=alternatives,
            )
        )
    return shown


def person_consents(*, session: PersonSession) -> list[ConsentRecord]:
    """The person's consents in their current version (a replaced one is its newer version)."""
    return list(
        ConsentRecord.objects.with_state()
        .filter(person_id=session.person_id)
        .exclude(status=ConsentRecord.Status.SUPERSEDED)
        .select_related("organisation")
        .order_by("-obtained_at")
    )


def person_consent_get(*, session: PersonSession, consent_id) -> ConsentRecord:
    record = (
        ConsentRecord.objects.with_state()
        .select_related("organisation")
        .filter(pk=consent_id, person_id=session.person_id)
        .first()
    )
    if record is None:
        raise NotFound("Not found.")
    return record


def person_requests(*, session: PersonSession) -> list[DataSubjectRequest]:
    return list(
        DataSubjectRequest.objects.filter(person_id=session.person_id)
        .only("id", "kind", "received_on", "due_on", "status", "person_id", "organisation_id")
        .order_by("-received_on", "-created_at")
    )
