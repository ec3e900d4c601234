"""List counts come from counters kept by triggers; after any history they equal COUNT(*) of the list.

The oracle is PostgreSQL counting the list's own rows (``ReferralListing.queryset().count()``),
never the counter table: random sequences of sends (between organisations, within one, PSEA),
transitions, assignments with restriction, onward referrals, consent withdrawals and erasures, then
every member's count on every side and filter compared with it.
"""

import random
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from common.errors import ServiceError
from consent.services import consent_withdraw, person_erase
from partners.models import Service
from referrals import counts, services
from referrals.models import Referral, ReferralCount
from referrals.selectors import referral_listing
from tests.factories import ConsentRecordFactory, PersonFactory, ServiceCategoryFactory, ServiceFactory
from tests.referrals.referral_setup import organisation

pytestmark = pytest.mark.django_db

SIDES = (None, "sent", "received")
FIELDS = ["given_name", "phone"]


def _world():
    a, b, c = organisation("A"), organisation("B"), organisation("C")
    gbv = ServiceCategoryFactory(code="gbv_case_management", name="GBV case management")
    psea = ServiceCategoryFactory(code="psea", name="PSEA")
    service = {
        "b1": ServiceFactory(organisation=b, category=gbv, name="B one", required_fields=FIELDS),
        "b2": ServiceFactory(organisation=b, category=gbv, name="B two", required_fields=FIELDS),
        "a1": ServiceFactory(organisation=a, category=gbv, name="A internal", required_fields=FIELDS),
        "c_psea": ServiceFactory(organisation=c, category=psea, name="C PSEA", required_fields=FIELDS),
        "c1": ServiceFactory(organisation=c, category=gbv, name="C one", required_fields=FIELDS),
    }
    return a, b, c, service


def _consent(a, b, c, sender):
    person = PersonFactory(organisation=sender, given_name="Test", phone="+254700000000")
    consent = ConsentRecordFactory(
        person=person,
        obtained_by=sender.caseworker,
        recipient_scope="named",
        recipients=[a.id, b.id, c.id],
        purposes=["gbv_case_management", "psea"],
        data_categories=FIELDS,
        expires_on=date.today() + timedelta(days=30),
    )
    return person, consent


def _members(a, b, c):
    # focal points and assignees see restricted referrals in person; caseworker2 is restricted out
    return [a.focal_point, a.caseworker, b.focal_point, b.caseworker, b.caseworker2, c.focal_point, c.viewer]


def _filter_sets(service: dict) -> list[dict]:
    return [
        {},
        {"status": "sent"},
        {"status": "withdrawn"},
        {"urgency": "emergency"},
        {"service": str(service["b1"].pk), "status": "acknowledged"},
        {"overdue": True},
        {"overdue": False, "urgency": "normal"},
        {"search": "R-"},
    ]


def _check_every_count(users, service):
    for user in users:
        for side in SIDES:
            lists = [(filters, False) for filters in _filter_sets(service)] + [({}, True)]
            for filters, mine in lists:
                listing = referral_listing(user=user, direction=side, filters=filters, assigned_to_me=mine)
                assert listing.count() == listing.queryset().count(), (user.username, side, filters, mine)


def _step(rng, a, b, c, service, referrals, people):
    roll = rng.random()
    open_ones = [r for r in referrals if Referral.objects.get(pk=r.pk).status in Referral.OPEN_STATUSES]
    if roll < 0.35 or not open_ones:
        sender = rng.choice([a, a, b])
        target = rng.choice(
            [s for key, s in service.items() if s.organisation_id != sender.id] + [service["a1"]]
        )
        person, consent = people.get(sender.pk) or _consent(a, b, c, sender)
        people[sender.pk] = (person, consent)
        referral = services.referral_send(
            actor=sender.caseworker,
            person=person,
            consent=consent,
            to_service=target,
            idempotency_key=f"k{len(referrals)}-{rng.random()}",
            urgency=rng.choice(["normal", "urgent", "emergency"]),
        )
        referrals.append(referral)
        return
    referral = Referral.objects.get(pk=rng.choice(open_ones).pk)
    receiving = {a.id: a, b.id: b, c.id: c}[referral.to_organisation_id]
    sending = {a.id: a, b.id: b, c.id: c}[referral.from_organisation_id]
    action = rng.choice(
        ["acknowledge", "accept", "decline", "complete", "withdraw", "assign", "restrict", "onward", "due"]
    )
    try:
        if action in {"acknowledge", "accept"}:
            services.referral_transition(actor=receiving.focal_point, referral=referral, action=action)
        elif action == "decline":
            services.referral_transition(
                actor=receiving.focal_point, referral=referral, action="decline", reason_code="no_capacity"
            )
        elif action == "complete":
            services.referral_transition(
                actor=receiving.focal_point, referral=referral, action="complete", outcome="service_provided"
            )
        elif action == "withdraw":
            services.referral_transition(actor=sending.caseworker, referral=referral, action="withdraw")
        elif action in {"assign", "restrict"}:
            services.referral_assign(
                actor=receiving.focal_point,
                referral=referral,
                caseworker=receiving.caseworker,
                restrict=action == "restrict",
            )
        elif action == "onward":
            target = rng.choice(list(Service.objects.exclude(pk=referral.to_service_id)))
            referrals.append(
                services.referral_refer_onward(
                    actor=receiving.focal_point,
                    referral=referral,
                    to_service=target,
                    idempotency_key=f"onward-{len(referrals)}-{rng.random()}",
                )
            )
        else:  # long past due: the overdue counts move with the clock, not with a write
            Referral.objects.filter(pk=referral.pk).update(due_by="2000-01-01T00:00Z")
    except ServiceError:
        pass  # not allowed in this state: a refusal changes nothing, which is checked too


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_equal_the_rows_after_a_random_history(seed):
    rng = random.Random(seed)
    a, b, c, service = _world()
    referrals, people = [], {}
    for round_ in range(4):
        for _ in range(10):
            _step(rng, a, b, c, service, referrals, people)
        if round_ == 1:  # a cascade: one person's consent withdrawn, another erased
            _person, consent = people[a.pk]
            consent_withdraw(actor=a.caseworker, record=consent, channel="in_person")
            people.pop(a.pk)
            if b.pk in people:
                person_erase(actor=b.focal_point, person=people.pop(b.pk)[0])
        if round_ in (1, 3):
            _check_every_count(_members(a, b, c), service)
    assert Referral.objects.count() >= 10


def test_a_rebuild_gives_the_counts_the_triggers_kept():
    a, b, c, service = _world()
    referrals, people = [], {}
    rng = random.Random(7)
    for _ in range(25):
        _step(rng, a, b, c, service, referrals, people)

    key = ("organisation_id", "side", "service_id", "status", "urgency", "internal")

    def totals():
        rows = ReferralCount.objects.values(*key).annotate(n=Sum("count")).exclude(n=0)
        return {tuple(row[name] for name in key): row["n"] for row in rows}

    kept = totals()
    counts.rebuild()
    assert totals() == kept and kept


def test_the_counters_move_in_the_statement_that_changes_a_grant():
    a, b, c, service = _world()
    person, consent = _consent(a, b, c, a)
    listing = referral_listing(user=b.caseworker, direction="received")
    referral = services.referral_send(
        actor=a.caseworker, person=person, consent=consent, to_service=service["b1"], idempotency_key="one"
    )
    assert listing.count() == 1
    # a grant taken away by hand (as a restore or a bug would) moves the count in the same statement
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM referrals_referralgroupobjectpermission"
            " WHERE content_object_id = %s AND group_id = %s",
            [referral.pk, b.group_id],
        )
    assert listing.count() == listing.queryset().count() == 0
