"""Escalation climbs, with a frozen clock (``now=`` passed to the service, never a sleep).

Level 1 at the due date tells the receiving focal point; level 2, a period later if still
unanswered, tells the sending focal point and the operation's coordinator. Emergency referrals (every
PSEA report is one) climb to level 2 in hours, the rest in days. An accepted referral without an
outcome past its service's ``outcome_due_days`` climbs the same two levels. Each level is reached
once however often the job runs, and only active members are told.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.services import membership_deactivate
from referrals import services
from referrals.models import Notification, Referral, ReferralEvent
from tests.factories import ConsentRecordFactory, ServiceCategoryFactory, ServiceFactory
from tests.referrals.referral_setup import build_world, organisation

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture
def world(settings):
    settings.ESCALATION_LEVEL_2_HOURS_EMERGENCY = 4
    settings.ESCALATION_LEVEL_2_HOURS = 72
    world = build_world()
    # the operation's coordinator works for an organisation that is neither side
    world.coordinator_org = organisation("UN")
    world.coordinator = world.coordinator_org.caseworker
    operation = world.b.operation
    operation.coordinator = world.coordinator
    operation.save()
    world.a.refresh_from_db()
    return world


def escalate(now) -> int:
    return services.referrals_escalate_overdue(now=now)


def told(referral, kind="referral_escalated") -> dict:
    """Who was told, by escalation code: {reason_code: {(recipient, organisation)}}."""
    rows = Notification.objects.filter(referral=referral, kind=kind)
    result: dict = {}
    for row in rows:
        result.setdefault(row.reason_code, set()).add((row.recipient_id, row.organisation_id))
    return result


def levels(referral) -> list[str]:
    return list(
        ReferralEvent.objects.filter(referral=referral, kind="escalated")
        .order_by("at")
        .values_list("reason_code", flat=True)
    )


def test_level_1_at_the_due_date_tells_the_receiving_focal_point_only(world):
    referral = world.send()
    assert escalate(referral.due_by - timedelta(minutes=1)) == 0
    assert escalate(referral.due_by + timedelta(minutes=1)) == 1
    referral.refresh_from_db()
    assert (referral.escalation_level, referral.escalated_at) == (1, referral.due_by + timedelta(minutes=1))
    assert levels(referral) == ["no_answer_level_1"]
    assert told(referral) == {"no_answer_level_1": {(world.b.focal_point.pk, world.b.pk)}}


def test_level_2_a_period_later_tells_the_sending_focal_point_and_the_coordinator(world):
    referral = world.send()  # normal urgency: level 2 three days after level 1
    level_1 = referral.due_by + timedelta(minutes=1)
    escalate(level_1)
    assert escalate(level_1 + 72 * HOUR - timedelta(minutes=1)) == 0
    assert escalate(level_1 + 72 * HOUR) == 1
    referral.refresh_from_db()
    assert referral.escalation_level == 2
    assert levels(referral) == ["no_answer_level_1", "no_answer_level_2"]
    assert told(referral)["no_answer_level_2"] == {
        (world.a.focal_point.pk, world.a.pk),
        # told as a member of their own organisation, which is how their inbox lists it
        (world.coordinator.pk, world.coordinator_org.pk),
    }
    # nothing climbs further, however long nobody answers
    assert escalate(level_1 + 365 * 24 * HOUR) == 0
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")  # answerable


def test_running_the_job_again_and_again_escalates_once_per_level(world):
    referral = world.send()
    due = referral.due_by
    # one run climbs at most one level, even when both are long past
    late = due + 30 * 24 * HOUR
    assert [escalate(late), escalate(late), escalate(late + HOUR)] == [1, 0, 0]
    assert [escalate(late + 72 * HOUR), escalate(late + 72 * HOUR), escalate(late + 100 * HOUR)] == [1, 0, 0]
    assert levels(referral) == ["no_answer_level_1", "no_answer_level_2"]
    assert Notification.objects.filter(referral=referral, kind="referral_escalated").count() == 3


def test_an_answer_stops_the_climb(world):
    referral = world.send()
    escalate(referral.due_by + HOUR)
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="decline", reason_code="no_capacity"
    )
    assert escalate(referral.due_by + 200 * HOUR) == 0
    assert levels(referral) == ["no_answer_level_1"]


def test_an_emergency_referral_climbs_to_level_2_in_hours(world):
    referral = world.send(urgency="emergency")
    level_1 = referral.due_by + timedelta(minutes=1)
    escalate(level_1)
    assert escalate(level_1 + 4 * HOUR - timedelta(minutes=1)) == 0
    assert escalate(level_1 + 4 * HOUR) == 1
    assert levels(referral) == ["no_answer_level_1", "no_answer_level_2"]
    # an emergency notice is urgent: the delivery layer ignores quiet hours for it
    assert set(
        Notification.objects.filter(referral=referral, kind="referral_escalated").values_list(
            "urgent", flat=True
        )
    ) == {True}


def test_a_psea_report_is_an_emergency_and_climbs_in_hours_to_the_holders_only(world):
    world.consent = ConsentRecordFactory(
        person=world.person,
        obtained_by=world.a.caseworker,
        recipient_scope="named",
        recipients=[world.b.id],
        purposes=["psea"],
        data_categories=["given_name", "phone"],
    )
    psea = ServiceFactory(
        organisation=world.b,
        category=ServiceCategoryFactory(code="psea", name="PSEA"),
        required_fields=["given_name"],
        response_hours_emergency=2,
    )
    report = world.send(to_service=psea)  # asked as normal: a PSEA report is always an emergency
    assert report.urgency == "emergency"
    escalate(report.due_by + timedelta(minutes=1))
    escalate(report.due_by + timedelta(minutes=1) + 4 * HOUR)
    assert levels(report) == ["no_answer_level_1", "no_answer_level_2"]
    assert told(report) == {
        "no_answer_level_1": {(world.b.focal_point.pk, world.b.pk)},
        "no_answer_level_2": {
            (world.a.focal_point.pk, world.a.pk),
            (world.coordinator.pk, world.coordinator_org.pk),
        },
    }
    assert not Notification.objects.filter(referral=report, kind="referral_escalated", urgent=False).exists()


def test_an_accepted_referral_without_an_outcome_climbs_on_the_outcome_clock(world):
    world.service_b.outcome_due_days = 10
    world.service_b.save()
    referral = world.send()
    Referral.objects.filter(pk=referral.pk).update(due_by=timezone.now() - HOUR)
    escalate(timezone.now())  # unanswered first: level 1 on the answer clock
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    referral.refresh_from_db()
    accepted = referral.outcome_due_by - timedelta(days=10)
    assert referral.escalation_level == 0  # accepting starts the outcome clock
    assert abs(accepted - referral.updated_at) < timedelta(seconds=5)
    assert escalate(referral.outcome_due_by - timedelta(minutes=1)) == 0
    assert escalate(referral.outcome_due_by + timedelta(minutes=1)) == 1
    assert escalate(referral.outcome_due_by + timedelta(minutes=1) + 72 * HOUR) == 1
    assert escalate(referral.outcome_due_by + 1000 * HOUR) == 0
    assert levels(referral) == ["no_answer_level_1", "no_outcome_level_1", "no_outcome_level_2"]
    assert told(referral, "outcome_overdue") == {
        "no_outcome_level_1": {(world.b.focal_point.pk, world.b.pk)},
        "no_outcome_level_2": {
            (world.a.focal_point.pk, world.a.pk),
            (world.coordinator.pk, world.coordinator_org.pk),
        },
    }
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="complete", outcome="service_provided"
    )


def test_without_an_outcome_period_an_accepted_referral_never_escalates(world):
    referral = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    referral.refresh_from_db()
    assert referral.outcome_due_by is None
    assert escalate(referral.due_by + 10_000 * HOUR) == 0
    assert levels(referral) == []


def test_a_completed_referral_is_not_escalated_for_its_outcome(world):
    world.service_b.outcome_due_days = 1
    world.service_b.save()
    referral = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="complete", outcome="not_provided"
    )
    referral.refresh_from_db()
    assert escalate(referral.outcome_due_by + 1000 * HOUR) == 0


def test_a_coordinator_whose_membership_was_deactivated_receives_nothing(world):
    referral = world.send()
    membership = world.coordinator.memberships.get(organisation=world.coordinator_org)
    membership_deactivate(actor=world.coordinator_org.focal_point, membership=membership)
    escalate(referral.due_by + HOUR)
    escalate(referral.due_by + HOUR + 72 * HOUR)
    assert levels(referral) == ["no_answer_level_1", "no_answer_level_2"]  # the climb is recorded
    assert told(referral)["no_answer_level_2"] == {(world.a.focal_point.pk, world.a.pk)}
    assert not Notification.objects.filter(recipient=world.coordinator).exists()


def test_no_coordinator_named_level_2_tells_the_sending_focal_point(world):
    operation = world.b.operation
    operation.coordinator = None
    operation.save()
    referral = world.send()
    escalate(referral.due_by + HOUR)
    escalate(referral.due_by + HOUR + 72 * HOUR)
    assert told(referral)["no_answer_level_2"] == {(world.a.focal_point.pk, world.a.pk)}


def test_a_referral_escalated_before_levels_existed_counts_as_level_1(world):
    """Migration 0006 set level 1 on referrals already escalated: they climb to level 2 next."""
    referral = world.send()
    Referral.objects.filter(pk=referral.pk).update(escalated_at=referral.due_by, escalation_level=1)
    assert escalate(referral.due_by + 72 * HOUR) == 1
    assert levels(referral) == ["no_answer_level_2"]
