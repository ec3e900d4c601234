"""The selectors and the read service behind the console's inbox tabs and referral page: tab counts
equal to the listing's own counts, the assignable members, and the onward suggestions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import Membership, Service
from referrals import services
from referrals.models import Referral
from referrals.selectors import (
    RECEIVED,
    referral_assignable_members,
    referral_get,
    referral_listing,
    referral_tab_counts,
)
from tests.factories import ConsentRecordFactory, ServiceFactory
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


def hand_made_inbox():
    """B received six: two sent (one overdue), one acknowledged, one accepted and assigned to the
    first caseworker, one declined, and one restricted to the second caseworker."""
    world = build_world()
    sent, late, acknowledged, accepted, declined, restricted = (
        world.send(urgency="urgent") for _ in range(6)
    )
    Referral.objects.filter(pk=late.pk).update(due_by=timezone.now() - timedelta(hours=1))
    Referral.objects.filter(pk=sent.pk).update(urgency="normal")
    b = world.b
    services.referral_transition(actor=b.caseworker, referral=acknowledged, action="acknowledge")
    services.referral_transition(actor=b.caseworker, referral=accepted, action="accept")
    services.referral_assign(actor=b.focal_point, referral=accepted, caseworker=b.caseworker)
    services.referral_transition(
        actor=b.caseworker, referral=declined, action="decline", reason_code="duplicate"
    )
    services.referral_assign(
        actor=b.focal_point, referral=restricted, caseworker=b.caseworker2, restrict=True
    )
    return world


def test_tab_counts_are_the_listings_counts_for_each_viewer():
    world = hand_made_inbox()
    b = world.b
    counts = referral_tab_counts(user=b.caseworker, direction=RECEIVED)
    assert counts.by_status == {"sent": 2, "acknowledged": 1, "accepted": 1, "declined": 1}
    assert (counts.total, counts.overdue, counts.assigned_to_me) == (5, 1, 1)
    # the restricted one is counted for those who hold it in person, and for nobody else
    held = referral_tab_counts(user=b.caseworker2, direction=RECEIVED)
    assert held.by_status == {"sent": 3, "acknowledged": 1, "accepted": 1, "declined": 1}
    assert (held.total, held.assigned_to_me) == (6, 1)
    focal = referral_tab_counts(user=b.focal_point, direction=RECEIVED)
    assert focal.total == 6 and focal.by_status["sent"] == 3
    for user in (b.caseworker, b.caseworker2, b.focal_point):
        for status, n in referral_tab_counts(user=user, direction=RECEIVED).by_status.items():
            listing = referral_listing(user=user, direction=RECEIVED, filters={"status": status})
            assert listing.queryset().count() == n
    # under an urgency the counters' key narrows every tab
    urgent = referral_tab_counts(user=b.caseworker, direction=RECEIVED, filters={"urgency": "urgent"})
    assert urgent.by_status["sent"] == 1 and urgent.total == 4
    assert referral_tab_counts(user=world.c.caseworker, direction=RECEIVED).total == 0


def test_count_by_status_runs_one_statement(django_assert_num_queries):
    world = hand_made_inbox()
    listing = referral_listing(user=world.b.caseworker2, direction=RECEIVED)
    expected = listing.count()
    with django_assert_num_queries(1):
        by_status = listing.count_by_status()
    assert sum(by_status.values()) == expected == 6


def test_assignable_members_are_the_active_acting_members_of_the_callers_organisation():
    world = build_world()
    b = world.b
    Membership.objects.filter(user=b.caseworker2).update(is_active=False)
    members = {member.user for member in referral_assignable_members(user=b.focal_point)}
    assert members == {b.focal_point, b.caseworker}
    assert not referral_assignable_members(user=world.c.focal_point).filter(organisation=b).exists()


def onward_along_a_pathway():
    """B accepted A's referral; a published pathway goes on from B's service to C's, and C has a
    second GBV service (the same kind as B's) that takes girls only."""
    from pathways.services import link_add, pathway_create, pathway_publish, step_add
    from tests.factories import PlatformAdminFactory

    world = build_world()
    world.consent = ConsentRecordFactory(
        person=world.person,
        obtained_by=world.a.caseworker,
        recipient_scope="named",
        recipients=[world.b.id, world.c.id],
        purposes=["gbv_case_management"],
        data_categories=["given_name", "phone", "best_time_to_call"],
    )
    admin = PlatformAdminFactory()
    world.service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, name="GBV C", required_fields=["given_name"]
    )
    pathway = pathway_create(actor=admin, operation=world.a.operation, name="GBV", theme="gbv")
    entry = step_add(actor=admin, pathway=pathway, service=world.service_b, is_entry=True, key="b")
    step = step_add(actor=admin, pathway=pathway, service=world.service_c, key="c")
    link_add(actor=admin, pathway=pathway, from_step=entry, to_step=step, preference=1)
    pathway_publish(actor=admin, pathway=pathway)
    world.parent = world.send()
    return world


def test_onward_offers_are_the_pathways_next_steps_once_accepted():
    world = onward_along_a_pathway()
    b = world.b
    assert not services.referral_onward_offers(actor=b.caseworker, referral=world.parent)  # not accepted
    services.referral_transition(actor=b.caseworker, referral=world.parent, action="accept")
    parent = referral_get(user=b.caseworker, referral_id=world.parent.pk)
    offers = services.referral_onward_offers(actor=b.caseworker, referral=parent)
    assert [offer.service for offer in offers.next_steps] == [world.service_c]
    assert offers.next_steps[0].link_id is not None
    assert offers.alternatives == []  # C's service is a next step already: each service once
    # the sending side may not refer it onward: nothing is suggested to it
    sent = referral_get(user=world.a.caseworker, referral_id=world.parent.pk)
    assert not services.referral_onward_offers(actor=world.a.caseworker, referral=sent)
    # a closed service is no longer suggested
    Service.objects.filter(pk=world.service_c.pk).update(is_accepting_referrals=False)
    from pathways.selectors import graph_cache_clear

    graph_cache_clear()
    assert not services.referral_onward_offers(actor=b.caseworker, referral=parent).next_steps
