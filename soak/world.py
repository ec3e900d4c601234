"""The soak's operation: written into the current (throw-away) database through the services, as a
platform admin, focal points and officers would write it.

- receiving organisations (one per ``PARTNERS_PER_ORGANISATION`` partner clients), each with a
  focal point, its caseworkers (the partner clients) and one service taking given name and phone;
- sending organisations (one per ``OFFICERS_PER_ORGANISATION`` officers), each with a focal point
  and its officers (caseworkers), every officer holding ``persons_per_officer`` persons, each with a
  consent recorded beforehand that names every receiving organisation;
- an API token per client, issued as the token login issues them (knox ``AuthToken``): the soak
  never logs in, so the login's failure and rate limits stay exactly as the product has them.

The accounts never get a password: nobody logs in with one, and their activation mails go to the
in-memory mail outbox of the process that writes the world.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

PARTNERS_PER_ORGANISATION = 10
OFFICERS_PER_ORGANISATION = 5
CATEGORY = "case_management"
# what each receiving service takes, and what every consent covers
REQUIRED_FIELDS = ["given_name", "phone"]
OPTIONAL_FIELDS = ["best_time_to_call"]
CONSENTED = ["given_name", "phone", "best_time_to_call"]


@dataclass
class Client:
    username: str
    token: str
    organisation: str  # acronym


@dataclass
class Officer(Client):
    # (person id, consent id) pairs this officer's organisation holds; an officer sends only these
    persons: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class World:
    partners: list[Client]
    officers: list[Officer]
    services: list[str]  # the receiving services' ids

    def save(self, path: Path) -> None:
        # the file holds API tokens: readable by its owner only
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> World:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            partners=[Client(**item) for item in data["partners"]],
            officers=[
                Officer(**{**item, "persons": [tuple(pair) for pair in item["persons"]]})
                for item in data["officers"]
            ],
            services=data["services"],
        )


def _account(username: str, **flags):
    from django.contrib.auth import get_user_model

    user = get_user_model()(username=username, email=f"{username}@soak.invalid", **flags)
    user.set_unusable_password()
    user.save()
    return user


def _token(user) -> str:
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user)[1]


def _organisation(admin, operation, *, name: str, acronym: str, kind: str):
    from partners import services

    organisation = services.organisation_create(
        actor=admin, name=name, acronym=acronym, kind=kind, operation=operation
    )
    services.organisation_record_dsa(
        actor=admin,
        organisation=organisation,
        signed_on=date.today() - timedelta(days=30),
        expires_on=date.today() + timedelta(days=365),
    )
    focal_point = _account(f"soak.{acronym.lower()}.fp")
    services.focal_point_appoint(actor=admin, organisation=organisation, user=focal_point)
    return organisation, focal_point


def _members(focal_point, organisation, count: int) -> list:
    from partners import services
    from partners.models import Membership

    return [
        services.member_add(
            actor=focal_point,
            organisation=organisation,
            username=f"soak.{organisation.acronym.lower()}.cw{n:02d}",
            email=f"soak.{organisation.acronym.lower()}.cw{n:02d}@soak.invalid",
            role=Membership.Role.CASEWORKER,
        ).user
        for n in range(1, count + 1)
    ]


def _spread(total: int, per: int) -> list[int]:
    """``total`` clients over ceil(total / per) organisations, as evenly as possible."""
    groups = max(1, math.ceil(total / per))
    return [total // groups + (1 if n < total % groups else 0) for n in range(groups)]


def build(*, partners: int, officers: int, persons_per_officer: int) -> World:
    """Write the operation into the current database and return what the clients need."""
    from django.contrib.auth.models import Permission
    from django.db import transaction

    from consent import services as consent_services
    from partners import services
    from partners.models import Operation, Organisation, ServiceCategory

    with transaction.atomic():
        operation = Operation.objects.create(name="Soak operation", country_code="KE")
        category, _ = ServiceCategory.objects.get_or_create(
            code=CATEGORY, defaults={"name": "Case management"}
        )
        admin = _account("soak.admin", is_staff=True)
        admin.user_permissions.add(Permission.objects.get(codename="manage_platform"))
        admin = type(admin).objects.get(pk=admin.pk)  # a fresh permission cache

        partner_clients, receivers, service_ids = [], [], []
        for n, count in enumerate(_spread(partners, PARTNERS_PER_ORGANISATION), start=1):
            organisation, focal_point = _organisation(
                admin,
                operation,
                name=f"Soak receiving partner {n}",
                acronym=f"SR{n}",
                kind=Organisation.Kind.NATIONAL_NGO,
            )
            service = services.service_create(
                actor=focal_point,
                organisation=organisation,
                name=f"Case management {organisation.acronym}",
                category=category,
                required_fields=REQUIRED_FIELDS,
                optional_fields=OPTIONAL_FIELDS,
            )
            receivers.append(organisation)
            service_ids.append(str(service.id))
            partner_clients += [
                Client(username=user.username, token=_token(user), organisation=organisation.acronym)
                for user in _members(focal_point, organisation, count)
            ]

        officer_clients = []
        for n, count in enumerate(_spread(officers, OFFICERS_PER_ORGANISATION), start=1):
            organisation, focal_point = _organisation(
                admin,
                operation,
                name=f"Soak protection office {n}",
                acronym=f"SS{n}",
                kind=Organisation.Kind.UN_AGENCY,
            )
            for user in _members(focal_point, organisation, count):
                held = []
                for p in range(persons_per_officer):
                    person = consent_services.person_create(
                        actor=user,
                        given_name=f"Soak {p}",
                        family_name=user.username,
                        phone=f"+254 700 {len(officer_clients):03d} {p:03d}",
                        best_time_to_call="Mornings",
                        sex="female",
                        age_band="18_59",
                    )
                    consent = consent_services.consent_create(
                        actor=user,
                        person=person,
                        collection_method="oral",
                        language="en",
                        purposes=[CATEGORY],
                        recipient_scope="named",
                        recipients=receivers,
                        data_categories=CONSENTED,
                        expires_on=date.today() + timedelta(days=90),
                    )
                    held.append((str(person.id), str(consent.id)))
                officer_clients.append(
                    Officer(
                        username=user.username,
                        token=_token(user),
                        organisation=organisation.acronym,
                        persons=held,
                    )
                )
    return World(partners=partner_clients, officers=officer_clients, services=service_ids)
