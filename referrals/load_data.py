"""Synthetic operation data at scale, written as the services would have written it.

``generate`` builds one generated operation — its organisations, staff, services and locations,
through the ORM — then persons, consents and referrals in chunks. Each chunk is planned in memory
(who registers whom, who sends what to which service, what then happens to it and when), turned
into exactly the rows the services write — the referral, its events, its grants, its history
rows, its notifications; the person and the consent with their history rows — and written with
binary PostgreSQL COPY in one transaction per chunk, by writer threads on connections of their own
while the next chunk is planned. The access log stays empty: nobody has read anything yet.

The rules are not copied here: the rows come from the tables and helpers the services use
(``transitions.STATE_CHANGES``, ``services._confinement``, ``disclosure_for``,
``services._payload_snapshot``, ``services._response_due``, ``the table's ``notice``, and
each encrypted field's own ``get_prep_value``, so the ciphertext is real).
``tests/referrals/test_load_data.py`` proves that a generated referral equals one sent and moved
through the services, row by row.

Every generated operation is named ``GENERATED_OPERATION`` plus a run number; that name is how
``foreign_data`` tells generated rows from an operation's real ones.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate

from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql
from simple_history.utils import bulk_create_with_history

from consent import crypto, keys
from consent.crypto import name_word_hashes, registration_number_hash
from consent.models import ConsentRecord, Person, PersonKey, RecipientScope, age_band_for, age_on
from partners.models import Location, Membership, Operation, Organisation, Service, ServiceCategory
from referrals import counts, services, transitions
from referrals.disclosure import disclosure_for
from referrals.models import (
    Notification,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
    new_reference,
)

User = get_user_model()
GENERATED_OPERATION = "Generated load data"
DEFAULT_ORGANISATIONS = 20
DEFAULT_REFERRALS = 2_000
DEFAULT_BIG_SHARE = 0.165
DEFAULT_DAYS = 730
CHUNK = 5_000  # referrals per transaction
WRITERS = 2  # connections writing chunks while the next is planned

S = Referral.Status
CATEGORIES = {
    "protection_desk": "Protection desk / intake",
    "gbv_case_management": "GBV case management",
    "child_protection": "Child protection case management",
    "mhpss": "Mental health and psychosocial support",
    "health": "Health",
    "legal_aid": "Legal aid",
    "cash": "Cash assistance",
    "shelter": "Shelter",
    "psea": "Protection from sexual exploitation and abuse (PSEA)",
}
# category → (service name, required fields, optional fields, response hours emergency/urgent/normal)
SERVICE_TEMPLATES = {
    "protection_desk": ("Protection desk", ["given_name", "phone"], ["preferred_language"], (24, 72, 168)),
    "gbv_case_management": (
        "GBV case management",
        ["given_name", "phone"],
        ["best_time_to_call", "narrative", "protection_concerns"],
        (24, 72, 336),
    ),
    "child_protection": (
        "Child protection case management",
        ["given_name", "family_name", "age_band", "location"],
        ["phone", "specific_needs", "protection_concerns"],
        (24, 72, 336),
    ),
    "mhpss": (
        "Psychosocial support",
        ["given_name", "phone"],
        ["preferred_language", "best_time_to_call", "narrative"],
        (24, 72, 336),
    ),
    "health": (
        "Health clinic",
        ["given_name", "family_name", "sex", "age_band"],
        ["date_of_birth", "specific_needs"],
        (12, 48, 168),
    ),
    "legal_aid": (
        "Legal aid",
        ["given_name", "family_name", "registration_number", "phone"],
        ["narrative"],
        (48, 120, 336),
    ),
    "cash": (
        "Cash assistance",
        ["given_name", "family_name", "registration_number", "household_size"],
        ["phone", "specific_needs"],
        (72, 168, 720),
    ),
    "shelter": (
        "Shelter",
        ["given_name", "family_name", "household_size", "location"],
        ["specific_needs"],
        (24, 72, 336),
    ),
    "psea": ("PSEA focal point", ["given_name", "phone", "best_time_to_call"], ["narrative"], (4, 24, 72)),
}
ORDINARY_CATEGORIES = [code for code in SERVICE_TEMPLATES if code != "psea"]
# services that set an outcome due date (``Service.outcome_due_days``); the rest never escalate one
OUTCOME_DUE_DAYS = {"gbv_case_management": 30, "child_protection": 30, "legal_aid": 60, "psea": 7}

GIVEN_NAMES = [
    "Amal",
    "Fatuma",
    "Hodan",
    "Nasra",
    "Achieng",
    "Grace",
    "Mary",
    "Aisha",
    "Khadija",
    "Halima",
    "Amina",
    "Zainab",
    "Rahma",
    "Asha",
    "Nyakim",
    "Abdi",
    "Hassan",
    "Mohamed",
    "Ahmed",
    "Omar",
    "Peter",
    "John",
    "Deng",
    "Garang",
    "Yusuf",
    "Ali",
    "Ibrahim",
    "Samuel",
    "Joseph",
    "Musa",
]
FAMILY_NAMES = [
    "Hassan",
    "Mohamed",
    "Ali",
    "Abdullahi",
    "Osman",
    "Warsame",
    "Deng",
    "Garang",
    "Akol",
    "Okello",
    "Ochieng",
    "Wanjiru",
    "Mutua",
    "Nyong",
    "Ahmed",
    "Ibrahim",
    "Yusuf",
    "Farah",
    "Kamau",
    "Otieno",
    "Lual",
    "Majok",
    "Adan",
    "Hussein",
    "Omondi",
    "Kiprop",
    "Adhiambo",
    "Atieno",
]
LANGUAGES = ("so", "ar", "sw", "en", "fr", "am", "ti", "din")
NEEDS = (
    "disability",
    "serious_medical_condition",
    "single_parent",
    "older_person_at_risk",
    "woman_at_risk",
    "separated_child",
    "unaccompanied_child",
)
CALL_TIMES = ("mornings", "after 4 pm", "weekends only", "any time", "not before 10 am")
CONCERNS = (
    "threatened by a neighbour",
    "fears returning to the distribution point",
    "harassed on the way to school",
    "partner controls all money",
)
NARRATIVES = (
    "Arrived three weeks ago with two children; husband missing since the crossing.",
    "Says she was pressured to pay for a place in the food queue.",
    "Lives with an uncle; not attending school since last term.",
    "Asked several times about a medical appointment that never came.",
)
REASON_NOTES = (
    "Asks for a woman caseworker.",
    "Prefers to be called, not visited.",
    "Interpreter needed; speaks only her mother tongue.",
    "Has been waiting since last month; please prioritise.",
    "Seen at the protection desk today.",
)
DECLINE_NOTES = ("Our caseload is full until next month.", "Outside the area we cover; try the camp office.")
WITHDRAW_NOTES = ("Moved to another camp.", "The family found support elsewhere.")
OUTCOME_NOTES = ("First session held.", "Referred to the clinic for follow-up.", "Case plan agreed.")
OUTCOMES = (
    (Referral.Outcome.SERVICE_PROVIDED, 70),
    (Referral.Outcome.PARTIALLY_PROVIDED, 14),
    (Referral.Outcome.NOT_PROVIDED, 7),
    (Referral.Outcome.PERSON_UNREACHABLE, 9),
)
DECLINE_REASONS = tuple(zip(transitions.DECLINE_REASONS, (25, 35, 20, 10, 5, 5), strict=True))
WITHDRAW_REASONS = tuple(zip(transitions.WITHDRAW_REASONS, (30, 25, 25, 10, 10), strict=True))
URGENCIES = ((Referral.Urgency.NORMAL, 70), (Referral.Urgency.URGENT, 22), (Referral.Urgency.EMERGENCY, 8))
SOURCES = ((Referral.Source.INTERNAL, 80), (Referral.Source.EXTERNAL, 12), (Referral.Source.SELF, 8))
PSEA_SHARE = 0.004  # of all referrals: SEA reports to a PSEA focal point


def _weighted(rng: random.Random, choices) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _zipf(count: int, exponent: float = 1.1) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


# The directory -----------------------------------------------------------------------------


@dataclass
class Staff:
    organisation: Organisation
    focal_point: object
    caseworkers: list
    viewer: object
    services: list[Service]  # ordinary services
    psea_service: Service | None = None

    @property
    def acting(self) -> list:
        return [self.focal_point, *self.caseworkers]


@dataclass
class Directory:
    operation: Operation
    run: int
    staff: list[Staff]  # index 0 is the big receiver
    locations: list[Location]
    permission_ids: dict[str, int]
    receive_weights: list[float]
    send_weights: list[float]
    organisation_of: dict = field(default_factory=dict)  # user id → organisation id
    members_of: dict = field(default_factory=dict)  # organisation id → set of user ids
    focal_point_of: dict = field(default_factory=dict)  # organisation id → user
    staff_of: dict = field(default_factory=dict)  # organisation id → Staff
    group_of: dict = field(default_factory=dict)  # organisation id → its group's id
    service_of: dict = field(default_factory=dict)  # service id → Service

    def index(self) -> None:
        for staff in self.staff:
            organisation_id = staff.organisation.id
            self.staff_of[organisation_id] = staff
            self.group_of[organisation_id] = staff.organisation.group_id
            people = [*staff.acting, staff.viewer]
            self.members_of[organisation_id] = {user.pk for user in people}
            self.focal_point_of[organisation_id] = staff.focal_point
            for service in [*staff.services, *([staff.psea_service] if staff.psea_service else [])]:
                self.service_of[service.id] = service
            for user in people:
                self.organisation_of[user.pk] = organisation_id


def next_run() -> int:
    names = Operation.objects.filter(name__startswith=GENERATED_OPERATION).values_list("name", flat=True)
    numbers = [int(name.rsplit(" ", 1)[-1]) for name in names if name.rsplit(" ", 1)[-1].isdigit()]
    return max(numbers, default=0) + 1


def foreign_data() -> list[str]:
    """What this database holds that the generator did not write (empty: safe to write here)."""
    generated = Operation.objects.filter(name__startswith=GENERATED_OPERATION)
    checks = [
        ("operations", Operation.objects.exclude(pk__in=generated)),
        ("organisations", Organisation.objects.exclude(operation__in=generated)),
        ("persons", Person.objects.exclude(organisation__operation__in=generated)),
        ("referrals", Referral.objects.exclude(from_organisation__operation__in=generated)),
    ]
    return [f"{queryset.count()} {label}" for label, queryset in checks if queryset.exists()]


def build_directory(
    *, organisations: int, big_share: float, rng: random.Random, run: int, now: datetime
) -> Directory:
    """One generated operation: its locations, organisations (each with a valid agreement, a focal
    point, caseworkers in proportion to its volume and a viewer) and their services. A few hundred
    rows: written through the ORM, with their history rows."""
    if organisations < 3:
        raise ValueError("At least 3 organisations: a sender, a receiver and someone outside.")
    operation = bulk_create_with_history(
        [Operation(name=f"{GENERATED_OPERATION} {run}", country_code="KE")], Operation
    )[0]
    locations = _build_locations(operation, rng)
    categories = _categories()
    tail = _zipf(organisations - 1)
    receive = [big_share] + [(1 - big_share) * weight / sum(tail) for weight in tail]
    # the biggest receiver is a specialised NGO that refers little; the biggest senders are intake
    # points (protection desks) elsewhere
    send_rank = list(range(1, organisations))
    rng.shuffle(send_rank)
    send_rank.insert(min(len(send_rank), max(3, organisations // 3)), 0)
    send_zipf = _zipf(organisations, 1.0)
    send = [0.0] * organisations
    for rank, index in enumerate(send_rank):
        send[index] = send_zipf[rank] / sum(send_zipf)

    ids = [_uuid(rng) for _ in range(organisations)]
    # each organisation's group, named as organisation_create names it
    groups = Group.objects.bulk_create([Group(name=f"organisation:{id}") for id in ids])
    orgs = []
    for n in range(organisations):
        kind = (
            Organisation.Kind.INTERNATIONAL_NGO
            if n == 0 or n % 10 == 3
            else Organisation.Kind.UN_AGENCY
            if n in (1, 2)
            else Organisation.Kind.COMMUNITY_BASED
            if n % 4 == 1
            else Organisation.Kind.NATIONAL_NGO
        )
        orgs.append(
            Organisation(
                id=ids[n],
                name=f"{Organisation.Kind(kind).label} {n:04d} (generated {run})",
                acronym=f"G{run}-{n:04d}",
                kind=kind,
                operation=operation,
                partnership=Organisation.Partnership.IMPLEMENTING if n % 3 else Organisation.Partnership.NONE,
                dsa_signed_on=(now - timedelta(days=900 + rng.randrange(300))).date(),
                dsa_expires_on=(now + timedelta(days=365 + rng.randrange(700))).date(),
                group=groups[n],
            )
        )
    bulk_create_with_history(orgs, Organisation)

    users, memberships, plans = [], [], []
    for n in range(organisations):
        volume = (receive[n] + send[n]) / 2
        caseworkers = min(40, 2 + round(volume * 150))
        people = [("fp", Membership.Role.FOCAL_POINT)]
        people += [(f"cw{i}", Membership.Role.CASEWORKER) for i in range(1, caseworkers + 1)]
        people += [("viewer", Membership.Role.VIEWER)]
        members = []
        for suffix, role in people:
            user = User(
                username=f"g{run}-{n:04d}-{suffix}",
                first_name=rng.choice(GIVEN_NAMES),
                last_name=rng.choice(FAMILY_NAMES),
                email=f"g{run}-{n:04d}-{suffix}@generated.invalid",
                password=make_password(None),
                date_joined=now - timedelta(days=DEFAULT_DAYS + 30),
            )
            users.append(user)
            members.append((user, role))
        plans.append(members)
    User.objects.bulk_create(users)
    staff_list = []
    psea_organisations = {1, *range(3, organisations, 20)}
    services_out = []
    for n, (organisation, members) in enumerate(zip(orgs, plans, strict=True)):
        for user, role in members:
            memberships.append(Membership(user=user, organisation=organisation, role=role))
        count = len(ORDINARY_CATEGORIES) - 4 if n == 0 else 1 + rng.randrange(3)
        codes = rng.sample(ORDINARY_CATEGORIES, count)
        if n == 0:
            codes = ["gbv_case_management", *[code for code in codes if code != "gbv_case_management"]]
        staff = Staff(
            organisation=organisation,
            focal_point=members[0][0],
            caseworkers=[user for user, role in members if role == Membership.Role.CASEWORKER],
            viewer=members[-1][0],
            services=[_service(organisation, categories[code], code, rng) for code in codes],
        )
        if n in psea_organisations:
            staff.psea_service = _service(organisation, categories["psea"], "psea", rng)
        services_out += [*staff.services, *([staff.psea_service] if staff.psea_service else [])]
        staff_list.append(staff)
    bulk_create_with_history(memberships, Membership)
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=membership.user.pk, group_id=membership.organisation.group_id)
            for membership in memberships
        ]
    )
    bulk_create_with_history(services_out, Service)
    permission_ids = dict(
        Permission.objects.filter(
            content_type__app_label="referrals",
            codename__in=(transitions.VIEW, transitions.RESPOND, transitions.MANAGE),
        ).values_list("codename", "pk")
    )
    directory = Directory(
        operation=operation,
        run=run,
        staff=staff_list,
        locations=[location for location in locations if location.kind in ("camp", "site")],
        permission_ids=permission_ids,
        receive_weights=receive,
        send_weights=send,
    )
    directory.index()
    # the operation's coordinator: the focal point of the last organisation (told at level 2)
    operation.coordinator = staff_list[-1].focal_point
    operation.save(update_fields=["coordinator"])
    return directory


def _build_locations(operation: Operation, rng: random.Random) -> list[Location]:
    def place(name: str, kind: str, parent: Location | None = None) -> Location:
        return Location(id=_uuid(rng), operation=operation, name=name, kind=kind, parent=parent)

    region = place("Generated region", Location.Kind.REGION)
    locations = [region]
    for camp in range(1, 5):
        parent = place(f"Camp {camp}", Location.Kind.CAMP, region)
        locations += [
            parent,
            *(place(f"Camp {camp} zone {zone}", Location.Kind.SITE, parent) for zone in (1, 2, 3)),
        ]
    return bulk_create_with_history(locations, Location)


def _categories() -> dict[str, ServiceCategory]:
    existing = {category.code: category for category in ServiceCategory.objects.filter(code__in=CATEGORIES)}
    missing = [
        ServiceCategory(code=code, name=name) for code, name in CATEGORIES.items() if code not in existing
    ]
    for category in bulk_create_with_history(missing, ServiceCategory):
        existing[category.code] = category
    return existing


def _service(organisation: Organisation, category: ServiceCategory, code: str, rng: random.Random) -> Service:
    name, required, optional, (emergency, urgent, normal) = SERVICE_TEMPLATES[code]
    return Service(
        id=_uuid(rng),
        organisation=organisation,
        category=category,
        name=name,
        required_fields=list(required),
        optional_fields=list(optional),
        response_hours_emergency=emergency,
        response_hours_urgent=urgent,
        response_hours_normal=normal,
        outcome_due_days=OUTCOME_DUE_DAYS.get(code),
    )


# Plans: what happens, in memory ----------------------------------------------------------


@dataclass
class Step:
    """One thing done to a referral after it was sent: a transition of the table (``accept``, …),
    ``assign`` (by the receiving focal point, optionally restricting) or ``escalate`` (the
    scheduler, no actor)."""

    action: str
    at: datetime
    actor: object = None
    reason_code: str = ""
    note: str = ""
    outcome: str = ""
    caseworker: object = None
    restrict: bool = False


@dataclass
class ReferralPlan:
    """What ``referral_send`` is asked, and the steps that follow, each with its time."""

    person: Person
    consent: ConsentRecord
    from_user: object
    organisation: Organisation  # the sender's
    to_service: Service
    created_at: datetime
    from_service: Service | None = None
    urgency: str = Referral.Urgency.NORMAL
    source: str = Referral.Source.INTERNAL
    reason_note: str = ""
    optional_fields: tuple[str, ...] = ()
    steps: list[Step] = field(default_factory=list)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    reference: str = field(default_factory=new_reference)
    idempotency_key: str = ""


def person_fields(rng: random.Random, locations: list[Location], number: str, on: date) -> dict:
    """The fields an officer gives ``person_create`` for one person (registration number given)."""
    fields: dict = {
        "registration_number": number,
        "given_name": rng.choice(GIVEN_NAMES),
        "family_name": rng.choice(FAMILY_NAMES),
        "phone": f"+2547{rng.randrange(10**8):08d}",
        "sex": _weighted(rng, ((Person.Sex.FEMALE, 55), (Person.Sex.MALE, 42), ("other", 1), ("unknown", 2))),
        "location": rng.choice(locations),
    }
    age = rng.choices((rng.randrange(0, 18), rng.randrange(18, 60), rng.randrange(60, 90)), (30, 62, 8))[0]
    if rng.random() < 0.75:
        fields["date_of_birth"] = on - timedelta(days=age * 365 + rng.randrange(365))
    else:
        fields["age_band"] = age_band_for(age)
    if rng.random() < 0.9:
        fields["preferred_language"] = rng.choice(LANGUAGES)
    if rng.random() < 0.8:
        fields["preferred_channel"] = rng.choice(Person.PreferredChannel.values)
    if rng.random() < 0.4:
        fields["best_time_to_call"] = rng.choice(CALL_TIMES)
    if rng.random() < 0.7:
        fields["location_detail"] = f"Block {rng.randrange(1, 60)}, shelter {rng.randrange(1, 400)}"
    if rng.random() < 0.25:
        fields["specific_needs"] = rng.sample(NEEDS, rng.choice((1, 1, 2)))
    if rng.random() < 0.2:
        fields["protection_concerns"] = rng.choice(CONCERNS)
    if rng.random() < 0.15:
        fields["narrative"] = rng.choice(NARRATIVES)
    if rng.random() < 0.85:
        fields["household_size"] = rng.randrange(1, 11)
    return fields


def person_from_fields(
    fields: dict, *, id, organisation: Organisation, registered_by, created_at: datetime
) -> Person:
    """The person ``person_create`` saves from these fields: the age band derived from the date of
    birth on the day of registration, the number stripped and hashed, the names' word hashes."""
    person = Person(id=id, organisation=organisation, registered_by=registered_by, **fields)
    if person.date_of_birth:
        person.age_band = age_band_for(age_on(person.date_of_birth, timezone.localdate(created_at)))
    number = (person.registration_number or "").strip()
    person.registration_number = number or None
    person.registration_number_hash = registration_number_hash(number) if number else None
    person.name_hashes = name_word_hashes(person.given_name, person.family_name)  # found by name too
    person.created_at = person.updated_at = created_at
    return person


def consent_fields(
    rng: random.Random, person: Person, targets: Iterable[tuple[Service, tuple]], *, until: date
):
    """What ``consent_create`` is given: a named-recipient consent covering every service this
    person will be referred to, with the fields each needs and the optional ones chosen."""
    purposes, recipients, categories = [], [], []
    for service, optional in targets:
        purposes.append(service.category.code)
        recipients.append(service.organisation_id)
        categories += [*service.required_fields, *optional]
    obtained_at = person.created_at + timedelta(minutes=3)
    data = {
        "obtained_at": obtained_at,
        "collection_method": _weighted(rng, (("oral", 70), ("written", 25), ("digital", 5))),
        "language": person.preferred_language or "en",
        "interpreter_used": rng.random() < 0.3,
        "purposes": list(dict.fromkeys(purposes)),
        "recipient_scope": RecipientScope.NAMED,
        "recipients": list(dict.fromkeys(recipients)),
        "data_categories": list(dict.fromkeys(categories)),
        "expires_on": max(timezone.localdate(obtained_at) + timedelta(days=365), until),
    }
    if person.is_minor(timezone.localdate(obtained_at)):
        data["child_assent"] = True
        if rng.random() < 0.1:
            data["unaccompanied_or_separated"] = True
            data["best_interests_reference"] = f"BIP-{rng.randrange(10**6):06d}"
        else:
            data["guardian_name"] = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
            data["guardian_relationship"] = rng.choice(("mother", "father", "aunt", "grandmother"))
    return data


def consent_from_fields(data: dict, *, id, person: Person, obtained_by) -> ConsentRecord:
    """The record ``consent_create`` saves: free text stripped, legal basis consent, the minor flag
    judged on the day it was obtained."""
    record = ConsentRecord(
        id=id,
        person=person,
        organisation_id=person.organisation_id,
        obtained_by=obtained_by,
        obtained_at=data["obtained_at"],
        collection_method=data["collection_method"],
        language=data["language"],
        interpreter_used=bool(data.get("interpreter_used", False)),
        legal_basis=data.get("legal_basis") or "consent",
        justification=(data.get("justification") or "").strip(),
        purposes=list(data["purposes"]),
        recipient_scope=data["recipient_scope"],
        recipients=list(data["recipients"]),
        data_categories=list(data["data_categories"]),
        expires_on=data["expires_on"],
        child_assent=data.get("child_assent"),
        guardian_name=(data.get("guardian_name") or "").strip(),
        guardian_relationship=(data.get("guardian_relationship") or "").strip(),
        unaccompanied_or_separated=bool(data.get("unaccompanied_or_separated", False)),
        best_interests_reference=(data.get("best_interests_reference") or "").strip(),
    )
    record.subject_is_minor = person.is_minor(record.obtained_at.date())
    record.recorded_at = record.obtained_at
    return record


class Planner:
    """Draws persons, their consents and their referrals, and what happens to each referral."""

    def __init__(self, directory: Directory, rng: random.Random, *, now: datetime, days: int = DEFAULT_DAYS):
        self.directory, self.rng, self.now, self.days = directory, rng, now, days
        staff = directory.staff
        self._send_cumulative = list(accumulate(directory.send_weights))
        self._receive_cumulative = list(accumulate(directory.receive_weights))
        self._psea = [s for s in staff if s.psea_service is not None]
        self._numbers = Counter()
        self._references = _References(rng)

    def case(self, referrals: int) -> tuple[Person, ConsentRecord, list[ReferralPlan]]:
        """One person registered by a sending organisation and ``referrals`` referrals of them."""
        rng, directory = self.rng, self.directory
        sender_index = rng.choices(range(len(directory.staff)), cum_weights=self._send_cumulative)[0]
        sender = directory.staff[sender_index]
        first = self.now - timedelta(seconds=rng.uniform(0, self.days * 86_400))
        times = [first]
        for _ in range(referrals - 1):
            later = times[-1] + timedelta(days=rng.expovariate(1 / 20))
            times.append(later if later < self.now else first + (self.now - first) * rng.random())
        times.sort()
        # registered, and consent recorded three minutes later, at least a quarter of an hour before
        registered_at = first - timedelta(hours=rng.expovariate(1 / 30) + 0.25)
        officer = rng.choice(sender.acting)
        self._numbers[sender_index] += 1
        number = f"{sender.organisation.acronym}-{self._numbers[sender_index]:07d}"
        fields = person_fields(rng, directory.locations, number, timezone.localdate(registered_at))
        person = person_from_fields(
            fields,
            id=_uuid(rng),
            organisation=sender.organisation,
            registered_by=officer,
            created_at=registered_at,
        )
        targets = [self._target(sender_index) for _ in times]
        chosen = [(service, self._optional(service)) for service in targets]
        data = consent_fields(rng, person, chosen, until=timezone.localdate(times[-1]) + timedelta(days=30))
        consent = consent_from_fields(data, id=_uuid(rng), person=person, obtained_by=officer)
        plans = []
        for at, (service, optional) in zip(times, chosen, strict=True):
            from_user = officer if rng.random() < 0.6 else rng.choice(sender.acting)
            plan = ReferralPlan(
                id=_uuid(rng),
                reference=self._references.next(),
                idempotency_key=str(_uuid(rng)),
                person=person,
                consent=consent,
                from_user=from_user,
                organisation=sender.organisation,
                to_service=service,
                from_service=rng.choice(sender.services) if rng.random() < 0.5 else None,
                created_at=at,
                urgency=_weighted(rng, URGENCIES),
                source=_weighted(rng, SOURCES),
                reason_note=rng.choice(REASON_NOTES) if rng.random() < 0.4 else "",
                optional_fields=optional,
            )
            plan.steps = self.lifecycle(plan)
            plans.append(plan)
        return person, consent, plans

    def _target(self, sender_index: int) -> Service:
        rng, staff = self.rng, self.directory.staff
        if rng.random() < PSEA_SHARE:
            options = [s for s in self._psea if s is not staff[sender_index]]
            if options:
                return rng.choice(options).psea_service
        while True:
            index = rng.choices(range(len(staff)), cum_weights=self._receive_cumulative)[0]
            if index != sender_index:
                return rng.choice(staff[index].services)

    def _optional(self, service: Service) -> tuple[str, ...]:
        return tuple(name for name in service.optional_fields if self.rng.random() < 0.4)

    def lifecycle(self, plan: ReferralPlan) -> list[Step]:
        """What happens after sending, drawn from plausible habits and cut at ``now``: old referrals
        have mostly run their course; recent ones are still open."""
        rng = self.rng
        receiving = self.directory.staff_of[plan.to_service.organisation_id]
        sending = self.directory.staff_of[plan.organisation.id]
        psea = services._is_psea(plan.to_service, None)
        urgency = Referral.Urgency.EMERGENCY if psea else plan.urgency
        due_by = services._response_due(plan.to_service, urgency, plan.created_at)
        confined_to = receiving.focal_point if psea else None
        steps: list[Step] = []
        t = plan.created_at

        def later(mean_hours: float) -> datetime:
            nonlocal t
            t = t + timedelta(hours=rng.expovariate(1 / mean_hours) + 0.05)
            return t

        def responder():
            if confined_to is not None:
                return confined_to
            return rng.choice(receiving.acting)

        def manager():
            if psea or rng.random() < 0.85:
                return plan.from_user
            return rng.choice(sending.acting)

        answer_mean = 2 if psea else 30
        fate = rng.random()
        if rng.random() < 0.6:
            steps.append(Step("acknowledge", later(answer_mean / 3), responder()))
        if fate < 0.04:  # the sender withdraws before an answer
            reason = _weighted(rng, WITHDRAW_REASONS)
            note = rng.choice(WITHDRAW_NOTES) if reason == "other" or rng.random() < 0.2 else ""
            steps.append(Step("withdraw", later(72), manager(), reason_code=reason, note=note))
        elif fate < 0.08:  # never answered
            pass
        elif fate < 0.22:
            reason = _weighted(rng, DECLINE_REASONS)
            note = rng.choice(DECLINE_NOTES) if reason == "other" or rng.random() < 0.3 else ""
            steps.append(Step("decline", later(answer_mean), responder(), reason_code=reason, note=note))
        else:
            steps.append(Step("accept", later(answer_mean), responder()))
            assignee = confined_to
            if not psea and rng.random() < 0.4:
                assignee = rng.choice(receiving.caseworkers)
                restrict = rng.random() < 0.06
                steps.append(
                    Step("assign", later(4), receiving.focal_point, caseworker=assignee, restrict=restrict)
                )
                if restrict:
                    confined_to = assignee
            ending = rng.random()
            if ending < 0.03:
                reason = _weighted(rng, WITHDRAW_REASONS)
                steps.append(Step("withdraw", later(240), manager(), reason_code=reason, note=""))
            elif ending < 0.85:
                by = assignee if assignee is not None and rng.random() < 0.9 else responder()
                note = rng.choice(OUTCOME_NOTES) if rng.random() < 0.5 else ""
                steps.append(Step("complete", later(500), by, outcome=_weighted(rng, OUTCOMES), note=note))
                if rng.random() < 0.8:
                    steps.append(Step("close", later(120), manager()))
        steps = [step for step in steps if step.at < self.now]
        # the scheduler climbs a level a few minutes after it is due, while nobody answers (level 1
        # at due_by, level 2 a period later), then, once accepted, while there is no outcome
        level_2_after = services.escalation_level_2_after(urgency)
        answered = next((s.at for s in steps if s.action != "acknowledge"), None)
        escalations = self._escalations(due_by, answered, level_2_after)
        accepted = next((s.at for s in steps if s.action == "accept"), None)
        outcome_due = services.outcome_due(plan.to_service, accepted) if accepted else None
        if outcome_due is not None:
            ended = next((s.at for s in steps if s.action in ("complete", "withdraw")), None)
            escalations += self._escalations(outcome_due, ended, level_2_after)
        if escalations:
            steps += [Step("escalate", at) for at in escalations]
            steps.sort(key=lambda step: step.at)
        return steps

    def _escalations(self, due, stopped, level_2_after) -> list[datetime]:
        """When the scheduler climbs levels 1 and 2 on one clock, before ``stopped`` (if ever) and now."""
        times = []
        at = due
        for _level in (1, 2):
            at = at + timedelta(minutes=self.rng.uniform(1, 10))
            if at >= self.now or (stopped is not None and stopped <= at):
                break
            times.append(at)
            at = at + level_2_after
        return times


class _References:
    """Readable references, unique within a run without remembering them: a counter through a
    bijection of the 32⁸ codes, offset at random per run; codes already in the database are
    skipped (a run on top of earlier data)."""

    ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    SPACE = 32**8
    STEP = 0x9E3779B97F  # odd: a bijection modulo 2**40

    def __init__(self, rng: random.Random):
        self.counter = rng.randrange(self.SPACE)
        self.taken: set[str] | None = None

    def next(self) -> str:
        if self.taken is None:
            self.taken = (
                set(Referral.objects.values_list("reference", flat=True))
                if Referral.objects.exists()
                else set()
            )
        while True:
            self.counter += 1
            value = (self.counter * self.STEP) % self.SPACE
            chars = []
            for _ in range(8):
                value, digit = divmod(value, 32)
                chars.append(self.ALPHABET[digit])
            reference = "R-" + "".join(chars)
            if reference not in self.taken:
                return reference


# Rows: what the services write ------------------------------------------------------------


class _Table:
    """One table's COPY: its columns (the serial id left to its sequence) and the rows so far.
    Encrypted columns are sealed with the row's person's data key, as a save seals them."""

    def __init__(self, model):
        self.model = model
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField")
        ]
        self.attnames = [f.attname for f in fields]
        self.encrypted = [(i, f) for i, f in enumerate(fields) if getattr(f, "encrypted", False)]
        self.sealer = None  # (field, value, person_id) -> token: the row's person's data key
        # binary: PostgreSQL reads uuids, times and arrays without parsing text
        self.statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
        )
        self.types = [re.sub(r"\(\d+\)", "", f.db_type(connection)) for f in fields]
        self.rows: list[list] = []

    def add(self, values: dict, *, encrypted: dict | None = None, person_id=None) -> dict:
        """Buffer one row; ``encrypted`` holds columns already encrypted (a history row written
        with its row shares the token: the same plaintext, and it decrypts alike). Returns the
        encrypted columns' tokens."""
        row = [values[name] for name in self.attnames]
        tokens = {}
        for index, model_field in self.encrypted:
            name = self.attnames[index]
            if encrypted is not None and name in encrypted:
                row[index] = encrypted[name]
            else:
                row[index] = tokens[name] = self.sealer(model_field, row[index], person_id)
        self.rows.append(row)
        return tokens

    def take(self) -> tuple[sql.Composed, list[str], list[list]]:
        rows, self.rows = self.rows, []
        return self.statement, self.types, rows


def copy_rows(batches: Iterable[tuple[sql.Composed, list[str], list[list]]]) -> int:
    """COPY the batches into the current connection, in the caller's transaction."""
    count = 0
    with connection.cursor() as cursor:
        for statement, types, rows in batches:
            if rows:
                with cursor.cursor.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
                count += len(rows)
    return count


def _history(state: dict, *, kind: str, user, at: datetime) -> dict:
    return {
        **state,
        "history_date": at,
        "history_change_reason": None,
        "history_type": kind,
        "history_user_id": getattr(user, "pk", user),
    }


def _fields_of(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


class RowWriter:
    """Turns persons, consents and referral plans into rows, then writes them with COPY."""

    def __init__(self, directory: Directory):
        self.directory = directory
        self.perm = directory.permission_ids
        # the history models, looked up once: the manager's descriptor is costly
        self.person_history = Person.history.model
        self.consent_history = ConsentRecord.history.model
        self.referral_history = Referral.history.model
        self.tables = {
            model: _Table(model)
            for model in (
                PersonKey,
                Person,
                self.person_history,
                ConsentRecord,
                self.consent_history,
                Referral,
                self.referral_history,
                ReferralEvent,
                ReferralGroupObjectPermission,
                ReferralUserObjectPermission,
                Notification,
            )
        }
        for table in self.tables.values():
            table.sealer = self._seal
        # each generated person's data key (the wrapped form goes to PersonKey, as consent.keys does)
        self.person_keys: dict[uuid.UUID, tuple[uuid.UUID, Fernet]] = {}
        self.statuses: Counter = Counter()
        self.rows: Counter = Counter()  # rows taken per table
        self.rng = random.Random(directory.run)  # noqa: S311 - ids of events and notifications, not secrets
        self._referral_defaults = {
            f.attname: f.get_default()
            for f in Referral._meta.concrete_fields
            if not (f.has_default() and callable(f.default))  # ids, references: given per row
        }

    def _id(self) -> uuid.UUID:
        return _uuid(self.rng)

    def _seal(self, field, value, person_id) -> str | None:
        value = field.to_python(value)
        if field.is_empty(value):
            return value
        plaintext = field.to_plaintext(value)
        known = self.person_keys.get(person_id)
        if known is None:  # a person written before this run: through consent.keys, as a save would
            return keys.seal(person_id, plaintext)
        key_id, data_key = known
        return crypto.seal(data_key, key_id, plaintext)

    def add_person(self, person: Person) -> None:
        """The rows of ``person_create``: the person's data key, the person and its ``+`` history row."""
        data_key, key_id = crypto.new_data_key(), self._id()
        self.person_keys[person.pk] = (key_id, Fernet(data_key))
        self.tables[PersonKey].add(
            {
                "id": key_id,
                "person_id": person.pk,
                "wrapped_key": crypto.wrap(data_key),
                "created_at": person.created_at,
                "destroyed_at": None,
            }
        )
        state = _fields_of(person)
        tokens = self.tables[Person].add(state, person_id=person.pk)
        self.tables[self.person_history].add(
            _history(state, kind="+", user=person.registered_by_id, at=person.created_at),
            encrypted=tokens,
            person_id=person.pk,
        )

    def add_consent(self, consent: ConsentRecord) -> None:
        """The rows of ``consent_create``: the record and its ``+`` history row."""
        state = _fields_of(consent)
        tokens = self.tables[ConsentRecord].add(state, person_id=consent.person_id)
        self.tables[self.consent_history].add(
            _history(state, kind="+", user=consent.obtained_by_id, at=consent.recorded_at),
            encrypted=tokens,
            person_id=consent.person_id,
        )

    def add_referral(self, plan: ReferralPlan) -> dict:
        """The rows of ``referral_send`` for this plan, then those of each step; returns the final state."""
        directory = self.directory
        service, organisation = plan.to_service, plan.organisation
        receiving = service.organisation
        consent = plan.consent
        disclosure = disclosure_for(
            required=service.required_fields,
            optional_offered=service.optional_fields,
            optional_chosen=plan.optional_fields,
            consented=consent.data_categories,
        )
        if disclosure.missing_required or disclosure.optional_not_consented or disclosure.not_offered:
            raise ValueError(f"The consent of plan {plan.id} does not cover what its service needs.")
        reason_note = (plan.reason_note or "").strip()
        shared = list(disclosure.shared)
        note_shared = bool(reason_note) and "narrative" in shared
        psea = services._is_psea(service, None)
        urgency = Referral.Urgency.EMERGENCY if psea else plan.urgency
        receivers, senders, restricted, assignee = services._confinement(
            actor=plan.from_user, organisation=organisation, receiving=receiving, psea=psea, parent=None
        )
        at = plan.created_at
        state = dict(self._referral_defaults)
        state.update(
            id=plan.id,
            reference=plan.reference,
            person_id=plan.person.pk,
            consent_id=consent.pk,
            from_organisation_id=organisation.id,
            from_user_id=plan.from_user.pk,
            from_service_id=plan.from_service.pk if plan.from_service else None,
            to_service_id=service.pk,
            to_organisation_id=receiving.id,
            source=plan.source,
            urgency=urgency,
            status=S.SENT,
            shared_fields=shared,
            payload=services._payload_snapshot(
                plan.person, shared, reason_note if note_shared else None, None
            ),
            has_note=bool(reason_note),
            note_shared=note_shared,
            reason_note=reason_note,
            assigned_to_id=getattr(assignee, "pk", None),
            restricted=restricted,
            due_by=services._response_due(service, urgency, at),
            idempotency_key=plan.idempotency_key.strip(),
            created_at=at,
            updated_at=at,
        )
        history = [_history(state, kind="+", user=plan.from_user, at=at)]
        grants: dict[tuple, None] = {}
        for holders, codenames in (
            (receivers, (transitions.VIEW, transitions.RESPOND)),
            (senders, (transitions.VIEW, transitions.MANAGE)),
        ):
            for holder in holders:
                if holder is None:
                    continue
                kind = "group" if isinstance(holder, Group) else "user"
                for codename in codenames:
                    grants[(kind, holder.pk, codename)] = None
        events = [
            self._event(
                state, ReferralEvent.Kind.SENT, at, actor=plan.from_user, organisation_id=organisation.id
            )
        ]
        notifications: list[dict] = []
        self._notify(
            notifications,
            state,
            Notification.Kind.NEW_REFERRAL,
            at,
            (directory.focal_point_of[receiving.id].pk, receiving.id),
        )
        for step in plan.steps:
            self._step(step, state, history, grants, events, notifications)
        person_id = state["person_id"]
        self.tables[Referral].add(state, person_id=person_id)
        for row in history:
            self.tables[self.referral_history].add(row, person_id=person_id)
        for row in events:
            self.tables[ReferralEvent].add(row, person_id=person_id)
        for kind, holder_id, codename in grants:
            values = {"permission_id": self.perm[codename], "content_object_id": plan.id}
            if kind == "group":
                self.tables[ReferralGroupObjectPermission].add({**values, "group_id": holder_id})
            else:
                self.tables[ReferralUserObjectPermission].add({**values, "user_id": holder_id})
        for row in notifications:
            self.tables[Notification].add(row)
        self.statuses[state["status"]] += 1
        return state

    def _step(self, step: Step, state, history, grants, events, notifications) -> None:
        at, actor = step.at, step.actor
        to_organisation = state["to_organisation_id"]
        if step.action == "escalate":  # referrals_escalate_overdue: a plain save, no author
            escalation = transitions.next_escalation(state["status"], state["escalation_level"])
            state["escalation_level"] = escalation.level
            state["escalated_at"] = state["updated_at"] = at
            history.append(_history(state, kind="~", user=None, at=at))
            events.append(
                self._event(
                    state, escalation.event, at, from_status=state["status"], reason_code=escalation.action
                )
            )
            self._carry_out(escalation, state, grants, notifications, at, escalation.action)
            return
        organisation_id = self.directory.organisation_of[actor.pk]
        if step.action == "assign":  # referral_assign
            caseworker = step.caseworker
            state["assigned_to_id"] = caseworker.pk
            if step.restrict and not state["restricted"]:
                group_id = self.directory.group_of[to_organisation]
                for key in [key for key in grants if key[0] == "group" and key[1] == group_id]:
                    del grants[key]
                state["restricted"] = True
            if state["restricted"]:
                members = self.directory.members_of[to_organisation]
                keep = {caseworker.pk, actor.pk}
                for key in [k for k in grants if k[0] == "user" and k[1] in members and k[1] not in keep]:
                    del grants[key]
                for user in (caseworker, actor):
                    for codename in (transitions.VIEW, transitions.RESPOND):
                        grants[("user", user.pk, codename)] = None
            state["updated_at"] = at
            history.append(_history(state, kind="~", user=actor, at=at))
            events.append(
                self._event(
                    state,
                    ReferralEvent.Kind.ASSIGNED,
                    at,
                    actor=actor,
                    organisation_id=organisation_id,
                    from_status=state["status"],
                    reason_code="restricted" if state["restricted"] else "",
                )
            )
            return
        transition = transitions.STATE_CHANGES[step.action]  # referral_transition
        note = (step.note or "").strip()
        if transition.outcome_required:
            state["outcome"] = step.outcome
            state["outcome_note"] = note
        previous = state["status"]
        state["status"] = transition.target
        if transition.starts_outcome_clock:
            state["escalation_level"] = 0
            state["outcome_due_by"] = services.outcome_due(
                self.directory.service_of[state["to_service_id"]], at
            )
        state["updated_at"] = at
        history.append(_history(state, kind="~", user=actor, at=at))
        events.append(
            self._event(
                state,
                transition.event,
                at,
                actor=actor,
                organisation_id=organisation_id,
                from_status=previous,
                reason_code=step.reason_code or step.outcome,
                note=note,
            )
        )
        self._carry_out(transition, state, grants, notifications, at, step.reason_code or step.outcome)

    def _carry_out(self, transition, state, grants, notifications, at, reason_code: str = "") -> None:
        """services._carry_out: the grant changes and notifications the table names."""
        if transitions.REVOKE_RECEIVING_RESPOND in transition.grants:
            to_organisation = state["to_organisation_id"]
            group_id = self.directory.group_of[to_organisation]
            members = self.directory.members_of[to_organisation]
            for key in [
                key
                for key in grants
                if key[2] == transitions.RESPOND
                and ((key[0] == "group" and key[1] == group_id) or (key[0] == "user" and key[1] in members))
            ]:
                del grants[key]
        kind = transition.notice
        if kind and transition.notify:
            receiving, sending = state["to_organisation_id"], state["from_organisation_id"]
            coordinator = self.directory.operation.coordinator_id
            found = {
                transitions.RECEIVING_FOCAL_POINT: (self.directory.focal_point_of[receiving].pk, receiving),
                transitions.SENDING_FOCAL_POINT: (self.directory.focal_point_of[sending].pk, sending),
                transitions.ASSIGNEE: (state["assigned_to_id"], receiving),
                transitions.REFERRER: (state["from_user_id"], sending),
                # generated staff are all active members; a coordinator from elsewhere is not told
                transitions.COORDINATOR: (
                    coordinator if coordinator in self.directory.organisation_of else None,
                    self.directory.organisation_of.get(coordinator),
                ),
            }
            told = (found[name] for name in transition.notify if name in found)  # no onward referrals here
            self._notify(notifications, state, kind, at, *told, reason_code=reason_code or "")

    def _event(
        self, state, kind, at, *, actor=None, organisation_id=None, from_status="", reason_code="", note=""
    ):
        return {
            "id": self._id(),
            "referral_id": state["id"],
            "kind": kind,
            "actor_id": getattr(actor, "pk", None),
            "organisation_id": organisation_id,
            "from_status": from_status,
            "to_status": state["status"],
            "reason_code": reason_code,
            "note": note,
            "at": at,
        }

    def _notify(self, notifications: list, state, kind, at, *recipients, reason_code: str = "") -> None:
        """``recipients``: (user id, the organisation they are told as a member of) pairs."""
        told: dict = {}
        for user_id, organisation_id in recipients:
            if user_id is not None:
                told.setdefault(user_id, organisation_id)
        for recipient, organisation_id in told.items():
            notifications.append(
                {
                    "id": self._id(),
                    "recipient_id": recipient,
                    "organisation_id": organisation_id,
                    "kind": kind,
                    "referral_id": state["id"],
                    "subject_id": None,
                    "reference": state["reference"],
                    "reason_code": reason_code,
                    "link": f"/api/v1/referrals/{state['id']}",
                    "urgent": state["urgency"] == Referral.Urgency.EMERGENCY,
                    "created_at": at,
                    "sent_at": None,
                    "read_at": None,
                }
            )

    def take(self) -> list[tuple[sql.Composed, list[list]]]:
        """The buffered rows of every table (the buffers start empty again)."""
        batches = []
        for model, table in self.tables.items():
            batch = table.take()
            self.rows[model._meta.db_table] += len(batch[-1])
            batches.append(batch)
        return batches

    def flush(self) -> None:
        """COPY every buffered row, in the caller's transaction."""
        copy_rows(self.take())


# The whole run --------------------------------------------------------------------------


@dataclass
class Summary:
    run: int
    operation: str
    organisations: int
    referrals: int
    persons: int
    rows: Counter
    statuses: Counter
    big_share: float
    seconds: float
    database: str

    @property
    def rate(self) -> float:
        return self.referrals / self.seconds if self.seconds else 0.0


def _case_sizes(rng: random.Random, total: int):
    """How many referrals each person gets (most one, some several), summing to ``total``."""
    left = total
    while left > 0:
        size = min(left, rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0])
        left -= size
        yield size


def database_label() -> str:
    settings = connection.settings_dict
    where = settings.get("HOST") or settings.get("OPTIONS", {}).get("host") or "the local socket"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"database {settings['NAME']!r} on {where}{port} as {settings.get('USER') or 'default user'}"


class _Writers:
    """Write chunks on connections of their own, one transaction each, while the next chunk is
    planned: PostgreSQL checks keys and fills indexes in its backends while Python draws rows.
    Chunks are independent (each holds its persons and all their referrals), so two writers never
    wait for each other. After a failure no further chunk is written; committed ones stay."""

    def __init__(self, count: int, progress: Callable[[int], None] | None, *, triggers_off: bool = False):
        self.chunks: queue.Queue = queue.Queue(maxsize=count + 1)
        self.progress = progress
        self.triggers_off = triggers_off
        self.error: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._run, name=f"load-data-writer-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def put(self, batches, referrals: int) -> None:
        self._raise()
        self.chunks.put((batches, referrals))

    def _run(self) -> None:
        try:
            for batches, referrals in iter(self.chunks.get, None):
                if self.error is not None:
                    continue  # drain, so the planner never blocks
                try:
                    with transaction.atomic():
                        # generated data: a crash may lose the last chunks, never make them inconsistent
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit TO OFF")
                            if self.triggers_off:  # the counters are rebuilt once at the end
                                cursor.execute("SET LOCAL session_replication_role TO replica")
                        copy_rows(batches)
                except BaseException as exc:  # reported to the planning thread at its next put or at close
                    self.error = exc
                    continue
                if self.progress:
                    self.progress(referrals)
        finally:
            connection.close()

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError("Writing a chunk failed; the chunks committed before it stay.") from self.error

    def close(self) -> None:
        for _ in self.threads:
            self.chunks.put(None)
        for thread in self.threads:
            thread.join()
        self._raise()


def generate(
    *,
    organisations: int = DEFAULT_ORGANISATIONS,
    referrals: int = DEFAULT_REFERRALS,
    big_share: float = DEFAULT_BIG_SHARE,
    seed: int = 1,
    days: int = DEFAULT_DAYS,
    chunk: int = CHUNK,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    writers: int = WRITERS,
) -> Summary:
    """Generate one operation of ``organisations`` organisations and ``referrals`` referrals.

    Chunks are committed one by one (``chunk`` referrals each) by ``writers`` threads, each on a
    connection of its own — unless ``writers`` is 0 or the caller is inside a transaction (a
    test's), whose rows another connection could not see: then every chunk is a savepoint of it."""
    if not 0 < big_share < 1:
        raise ValueError("--big-share is a fraction between 0 and 1.")
    started = time.perf_counter()
    now = now or timezone.now()
    run = next_run()
    rng = random.Random(f"{seed}:{run}")  # noqa: S311 - reproducible synthetic data, not secrets
    with transaction.atomic():
        directory = build_directory(
            organisations=organisations, big_share=big_share, rng=rng, run=run, now=now
        )
    planner = Planner(directory, rng, now=now, days=days)
    writer = RowWriter(directory)
    received_by_big = persons = pending = 0
    big = directory.staff[0].organisation.id
    pool = None
    if writers and not connection.in_atomic_block:
        # as superuser the writers skip the row triggers (the list counters, the foreign-key checks
        # of rows made here from existing ones) and the counters are rebuilt once at the end
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = bool(cursor.fetchone()[0])
        pool = _Writers(writers, progress, triggers_off=superuser)

    def write(count: int) -> None:
        if pool:
            pool.put(writer.take(), count)
        else:
            with transaction.atomic():
                writer.flush()
            if progress:
                progress(count)

    try:
        for size in _case_sizes(rng, referrals):
            person, consent, plans = planner.case(size)
            writer.add_person(person)
            writer.add_consent(consent)
            for plan in plans:
                writer.add_referral(plan)
                received_by_big += plan.to_service.organisation_id == big
            persons += 1
            pending += size
            if pending >= chunk:
                write(pending)
                pending = 0
        if pending:
            write(pending)
    finally:
        if pool:
            pool.close()
    if pool and pool.triggers_off:
        counts.rebuild()
    with connection.cursor() as cursor:  # fresh statistics: the planner must know the tables' new sizes
        for table in writer.tables.values():
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table.model._meta.db_table)}")
    return Summary(
        run=run,
        operation=directory.operation.name,
        organisations=organisations,
        referrals=referrals,
        persons=persons,
        rows=writer.rows,
        statuses=writer.statuses,
        big_share=received_by_big / referrals,
        seconds=time.perf_counter() - started,
        database=database_label(),
    )
