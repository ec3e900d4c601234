"""The state machine, assignment, onward referral and escalation, through the services."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from common.errors import Conflict, NotFound, PermissionDenied, ServiceError
from referrals import services
from referrals.models import InformationGiven, Notification, Referral, ReferralEvent
from referrals.selectors import referral_get_visible, referral_list_visible
from tests.factories import ServiceFactory
from tests.referrals.expected_matrix import STATE_CHANGES
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

STATES = [choice for choice in Referral.Status.values]


@pytest.fixture
def world():
    return build_world()


def put_in_state(referral: Referral, state: str) -> Referral:
    fields = {"status": state}
    if state in ("completed", "closed"):
        fields["outcome"] = "service_provided"
    Referral.objects.filter(pk=referral.pk).update(**fields)
    referral.refresh_from_db()
    return referral


def arguments_for(action: str) -> dict:
    return {
        "decline": {"reason_code": "no_capacity"},
        "withdraw": {"reason_code": "person_request"},
        "complete": {"outcome": "service_provided", "note": "first session held"},
    }.get(action, {})


def right_side(world, action: str):
    side = STATE_CHANGES[action][2] if action in STATE_CHANGES else "receiving"
    return world.b.caseworker if side == "receiving" else world.a.caseworker


def wrong_side(world, action: str):
    side = STATE_CHANGES[action][2] if action in STATE_CHANGES else "receiving"
    return world.a.caseworker if side == "receiving" else world.b.caseworker


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(STATE_CHANGES))
def test_transition_table_walk(world, state, action):
    referral = put_in_state(world.send(), state)
    sources, target, _side, _event = STATE_CHANGES[action]
    if state in sources:
        result = services.referral_transition(
            actor=right_side(world, action), referral=referral, action=action, **arguments_for(action)
        )
        assert result.status == target
        event = result.events.order_by("-at").first()
        assert (event.from_status, event.to_status) == (state, target)
    else:
        with pytest.raises(Conflict) as exc:
            services.referral_transition(
                actor=right_side(world, action), referral=referral, action=action, **arguments_for(action)
            )
        assert exc.value.code == "invalid_transition"
        referral.refresh_from_db()
        assert referral.status == state


@pytest.mark.parametrize("action", sorted(STATE_CHANGES))
def test_the_other_side_cannot_take_an_action(world, action):
    sources = STATE_CHANGES[action][0]
    referral = put_in_state(world.send(), sources[0])
    with pytest.raises(PermissionDenied) as exc:
        services.referral_transition(
            actor=wrong_side(world, action), referral=referral, action=action, **arguments_for(action)
        )
    assert exc.value.code == "wrong_side"


@pytest.mark.parametrize("action", sorted(STATE_CHANGES))
def test_an_organisation_that_is_not_a_party_gets_not_found(world, action):
    sources = STATE_CHANGES[action][0]
    referral = put_in_state(world.send(), sources[0])
    for actor in (world.c.focal_point, world.c.caseworker):
        with pytest.raises(NotFound):
            services.referral_transition(
                actor=actor, referral=referral, action=action, **arguments_for(action)
            )


@pytest.mark.parametrize("action", ["accept", "withdraw"])
def test_viewers_cannot_act(world, action):
    referral = world.send()
    viewer = world.b.viewer if action == "accept" else world.a.viewer
    assert referral_get_visible(user=viewer, referral_id=referral.pk) == referral
    with pytest.raises(PermissionDenied) as exc:
        services.referral_transition(actor=viewer, referral=referral, action=action, **arguments_for(action))
    assert exc.value.code == "role_cannot_act"


@pytest.mark.parametrize(
    ("action", "code"), [("decline", "reason_required"), ("withdraw", "reason_required")]
)
def test_decline_and_withdraw_need_a_reason(world, action, code):
    referral = world.send()
    with pytest.raises(ServiceError) as exc:
        services.referral_transition(actor=right_side(world, action), referral=referral, action=action)
    assert exc.value.code == code
    with pytest.raises(ServiceError) as exc:
        services.referral_transition(
            actor=right_side(world, action), referral=referral, action=action, reason_code="other"
        )
    assert exc.value.code == "note_required"


def test_complete_needs_an_outcome_that_the_referrer_learns(world):
    referral = put_in_state(world.send(), "accepted")
    with pytest.raises(ServiceError) as exc:
        services.referral_transition(actor=world.b.caseworker, referral=referral, action="complete")
    assert exc.value.code == "outcome_required"
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="complete", outcome="person_unreachable"
    )
    seen_by_referrer = referral_get_visible(user=world.a.caseworker2, referral_id=referral.pk)
    assert seen_by_referrer.outcome == "person_unreachable"
    assert Notification.objects.filter(
        referral=referral, kind="outcome_recorded", recipient=world.a.caseworker
    )


def test_withdrawing_a_referral_leaves_the_receiver_a_record_it_cannot_act_on(world):
    referral = world.send()
    services.referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="sent_in_error"
    )
    # still there for the receiver (a tombstone), but every response is refused
    assert referral_get_visible(user=world.b.focal_point, referral_id=referral.pk).status == "withdrawn"
    assert not world.b.focal_point.has_perm("referrals.respond_referral", referral)
    assert not world.b.caseworker.has_perm("referrals.respond_referral", referral)
    for action in ("accept", "decline"):
        with pytest.raises(Conflict):
            services.referral_transition(
                actor=world.b.focal_point, referral=referral, action=action, **arguments_for(action)
            )
    assert referral_get_visible(user=world.a.caseworker, referral_id=referral.pk).status == "withdrawn"
    with pytest.raises(NotFound):
        referral_get_visible(user=world.c.focal_point, referral_id=referral.pk)


# Assignment and restriction ------------------------------------------------------------------


def test_focal_point_assigns_and_restricts_to_one_caseworker(world):
    referral = world.send()
    services.referral_assign(
        actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker, restrict=True
    )
    assert referral_get_visible(user=world.b.caseworker, referral_id=referral.pk)
    assert referral_get_visible(user=world.b.focal_point, referral_id=referral.pk)
    for outsider in (world.b.caseworker2, world.b.viewer):
        with pytest.raises(NotFound):
            referral_get_visible(user=outsider, referral_id=referral.pk)
        with pytest.raises(NotFound):
            services.referral_transition(actor=outsider, referral=referral, action="accept")
    services.referral_transition(actor=world.b.caseworker, referral=referral, action="accept")


def test_only_the_receiving_focal_point_assigns(world):
    referral = world.send()
    with pytest.raises(PermissionDenied):
        services.referral_assign(actor=world.b.caseworker, referral=referral, caseworker=world.b.caseworker2)
    with pytest.raises(ServiceError) as exc:
        services.referral_assign(actor=world.b.focal_point, referral=referral, caseworker=world.c.caseworker)
    assert exc.value.code == "invalid_assignee"


def test_psea_referral_is_visible_to_the_receiving_focal_point_only(world):
    from tests.factories import ServiceCategoryFactory

    psea = ServiceFactory(
        organisation=world.b, category=ServiceCategoryFactory(code="psea"), required_fields=["given_name"]
    )
    from tests.factories import ConsentRecordFactory

    # the world's consent covers GBV case management only

    consent = ConsentRecordFactory(
        person=world.person,
        recipient_scope="named",
        recipients=[world.b.id],
        purposes=["psea"],
        data_categories=["given_name", "phone"],
    )
    referral = world.send(consent=consent, to_service=psea)
    assert referral_get_visible(user=world.b.focal_point, referral_id=referral.pk)
    for user in (world.b.caseworker, world.b.caseworker2, world.b.viewer):
        with pytest.raises(NotFound):
            referral_get_visible(user=user, referral_id=referral.pk)


# The selector and has_perm agree ------------------------------------------------------------


def test_selector_and_has_perm_agree_on_every_referral_for_every_user(world):
    plain = world.send()
    restricted = world.send()
    services.referral_assign(
        actor=world.b.focal_point, referral=restricted, caseworker=world.b.caseworker, restrict=True
    )
    withdrawn = world.send()
    services.referral_transition(
        actor=world.a.caseworker, referral=withdrawn, action="withdraw", reason_code="other", note="dup"
    )
    users = [
        getattr(org, role)
        for org in (world.a, world.b, world.c)
        for role in ("focal_point", "caseworker", "caseworker2", "viewer")
    ]
    for user in users:
        visible = set(referral_list_visible(user=user).values_list("pk", flat=True))
        for referral in (plain, restricted, withdrawn):
            fresh = type(user).objects.get(pk=user.pk)  # no cached permissions
            assert (referral.pk in visible) == fresh.has_perm("referrals.view_referral", referral), (
                user,
                referral,
            )


def test_visible_list_is_one_query(world, django_assert_num_queries):
    for _ in range(3):
        world.send()
    user = type(world.b.caseworker).objects.get(pk=world.b.caseworker.pk)
    from partners.selectors import membership_active

    membership_active(user=user)
    with django_assert_num_queries(1):
        assert len(list(referral_list_visible(user=user))) == 3


# Onward referral ---------------------------------------------------------------------------


def test_refer_onward_rechecks_the_consent_for_the_new_recipient(world):
    referral = put_in_state(world.send(), "accepted")
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    with pytest.raises(ServiceError) as exc:  # the consent names B only
        services.referral_refer_onward(
            actor=world.b.caseworker, referral=referral, to_service=service_c, idempotency_key="on-1"
        )
    assert exc.value.code == "consent_not_covering_recipient"
    assert not Referral.objects.filter(parent=referral).exists()


def test_refer_onward_creates_a_child_carrying_only_what_the_parent_shared(world):
    from tests.factories import ConsentRecordFactory

    consent = ConsentRecordFactory(
        person=world.person,
        recipient_scope="named",
        recipients=[world.b.id, world.c.id],
        purposes=["gbv_case_management"],
        data_categories=["given_name", "phone", "best_time_to_call"],
    )
    parent = put_in_state(world.send(consent=consent), "accepted")  # shares given_name, phone
    service_c = ServiceFactory(
        organisation=world.c,
        category=world.service_b.category,
        required_fields=["given_name"],
        optional_fields=["phone", "best_time_to_call"],
    )
    # best_time_to_call is consented but B never received it, so it cannot pass it on: refused by name
    with pytest.raises(ServiceError) as exc:
        services.referral_refer_onward(
            actor=world.b.caseworker,
            referral=parent,
            to_service=service_c,
            idempotency_key="on-1",
            optional_fields=["phone", "best_time_to_call"],
        )
    assert exc.value.code == "field_not_available"
    assert exc.value.extra == {"missing_fields": ["best_time_to_call"]}
    child = services.referral_refer_onward(
        actor=world.b.caseworker,
        referral=parent,
        to_service=service_c,
        idempotency_key="on-2",
        optional_fields=["phone"],
    )
    assert (child.parent, child.from_organisation, child.to_organisation) == (parent, world.b, world.c)
    assert child.payload == {"given_name": "Amal", "phone": "+254700111222"}
    parent.refresh_from_db()
    assert parent.status == "accepted"
    assert parent.events.filter(kind="referred_onward").exists()
    assert referral_get_visible(user=world.c.caseworker, referral_id=child.pk) == child


def test_only_accepted_referrals_go_onward(world):
    referral = world.send()
    with pytest.raises(Conflict):
        services.referral_refer_onward(
            actor=world.b.caseworker, referral=referral, to_service=world.service_b, idempotency_key="x"
        )


# Escalation and information -------------------------------------------------------------------


def test_escalate_overdue_once_for_the_receiving_focal_point(world):
    late = world.send()
    on_time = world.send()
    answered = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=answered, action="accept")
    Referral.objects.filter(pk__in=[late.pk, answered.pk]).update(due_by=timezone.now() - timedelta(hours=1))
    call_command("escalate_overdue", stdout=StringIO())
    call_command("escalate_overdue", stdout=StringIO())
    assert list(ReferralEvent.objects.filter(kind="escalated").values_list("referral", flat=True)) == [
        late.pk
    ]
    recipients = set(
        Notification.objects.filter(referral=late, kind="referral_escalated").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {world.b.focal_point.pk}  # level 1; level 2 is tests/referrals/test_escalation.py
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.is_overdue and late.status == "sent" and not on_time.is_overdue
    services.referral_transition(actor=world.b.caseworker, referral=late, action="accept")  # still answerable


def test_information_given_is_counted_without_personal_data(world):
    record = services.information_given(actor=world.a.caseworker, service=world.service_b, channel="phone")
    assert (record.service, record.organisation, record.channel) == (world.service_b, world.a, "phone")
    with pytest.raises(ServiceError) as exc:
        services.information_given(actor=world.a.caseworker, service=world.service_b, channel="pigeon")
    assert exc.value.field == "channel"
    assert InformationGiven.objects.count() == 1


def test_payload_reads_are_logged_in_one_insert(world, django_assert_num_queries):
    referrals = [world.send() for _ in range(4)]
    reader = world.b.caseworker
    from partners.selectors import membership_active

    membership_active(user=reader)
    with django_assert_num_queries(1):
        services.payload_read(user=reader, referrals=referrals, api="rest")
    from referrals.models import AccessLog

    assert AccessLog.objects.filter(user=reader, organisation=world.b).count() == 4


def test_reassigning_a_restricted_referral_restricts_the_previous_caseworker_out(world):
    referral = world.send()
    services.referral_assign(
        actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker, restrict=True
    )
    services.referral_assign(actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker2)
    assert referral_get_visible(user=world.b.caseworker2, referral_id=referral.pk)
    with pytest.raises(NotFound):
        referral_get_visible(user=world.b.caseworker, referral_id=referral.pk)
    fresh = type(world.b.caseworker).objects.get(pk=world.b.caseworker.pk)
    assert not fresh.has_perm("referrals.view_referral", referral)


def test_onward_referral_from_a_restricted_one_stays_with_the_people_who_could_see_it(world):
    from tests.factories import ConsentRecordFactory

    consent = ConsentRecordFactory(
        person=world.person,
        recipient_scope="named",
        recipients=[world.b.id, world.c.id],
        purposes=["gbv_case_management"],
        data_categories=["given_name", "phone"],
    )
    parent = world.send(consent=consent)
    services.referral_assign(
        actor=world.b.focal_point, referral=parent, caseworker=world.b.caseworker, restrict=True
    )
    services.referral_transition(actor=world.b.caseworker, referral=parent, action="accept")
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    child = services.referral_refer_onward(
        actor=world.b.caseworker, referral=parent, to_service=service_c, idempotency_key="on-r"
    )
    assert referral_get_visible(user=world.b.caseworker, referral_id=child.pk)
    assert referral_get_visible(user=world.b.focal_point, referral_id=child.pk)
    for outsider in (world.b.caseworker2, world.b.viewer):
        with pytest.raises(NotFound):
            referral_get_visible(user=outsider, referral_id=child.pk)


def test_onward_referral_rests_on_the_consent_version_now_in_force(world):
    from consent.services import consent_new_version

    parent = put_in_state(world.send(), "accepted")
    newer = consent_new_version(
        actor=world.a.caseworker,
        previous=world.consent,
        recipients=[world.b, world.c],
        data_categories=["given_name", "phone", "best_time_to_call"],
    )
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    child = services.referral_refer_onward(
        actor=world.b.caseworker, referral=parent, to_service=service_c, idempotency_key="on-v"
    )
    assert child.consent == newer


def test_subject_access_export_includes_referrals_their_events_and_who_read_them(world):
    from consent import services as consent_services

    referral = world.send(reason_note="her words")
    services.payload_read(user=world.b.caseworker, referrals=[referral], api="rest")
    services.referral_transition(
        actor=world.b.caseworker, referral=referral, action="accept", note="called back"
    )
    request = consent_services.data_subject_request_create(
        actor=world.a.caseworker, person=world.person, kind="access", channel="written", details="copy please"
    )
    _completed, export = consent_services.data_subject_request_complete(
        actor=world.a.caseworker, request=request
    )
    (row,) = export["referrals"]
    assert row["reference"] == referral.reference and row["payload"]["given_name"] == "Amal"
    assert row["reason_note"] == "her words"
    assert [event["kind"] for event in row["events"]] == ["sent", "accepted"]
    assert row["events"][1]["note"] == "called back"
    assert row["read_by"] == [
        {"at": row["read_by"][0]["at"], "organisation": "B", "fields": ["given_name", "phone"], "api": "rest"}
    ]
    # handing the export over is itself a read of the shared data, logged like any other
    from referrals.models import AccessLog

    assert AccessLog.objects.filter(referral=referral, user=world.a.caseworker).count() == 1


def _psea_referral(world):
    from tests.factories import ConsentRecordFactory, ServiceCategoryFactory

    psea = ServiceFactory(
        organisation=world.b, category=ServiceCategoryFactory(code="psea"), required_fields=["given_name"]
    )
    consent = ConsentRecordFactory(
        person=world.person,
        recipient_scope="named",
        recipients=[world.b.id],
        purposes=["psea"],
        data_categories=["given_name", "phone"],
    )
    return world.send(consent=consent, to_service=psea)


def test_focal_point_hand_over_passes_psea_reports_to_the_new_focal_point(world):
    from partners.services import focal_point_appoint
    from tests.factories import PlatformAdminFactory

    report = _psea_referral(world)
    focal_point_appoint(actor=PlatformAdminFactory(), organisation=world.b, user=world.b.caseworker2)
    fresh = type(world.b.focal_point).objects.get(pk=world.b.focal_point.pk)  # a caseworker now
    with pytest.raises(NotFound):
        referral_get_visible(user=fresh, referral_id=report.pk)
    new_focal_point = type(world.b.caseworker2).objects.get(pk=world.b.caseworker2.pk)
    assert referral_get_visible(user=new_focal_point, referral_id=report.pk)
    report.refresh_from_db()
    assert report.assigned_to == new_focal_point


def test_selector_and_has_perm_agree_on_psea_onward_and_reassigned_referrals(world):
    from tests.factories import ConsentRecordFactory

    psea = _psea_referral(world)
    reassigned = world.send()
    services.referral_assign(
        actor=world.b.focal_point, referral=reassigned, caseworker=world.b.caseworker, restrict=True
    )
    services.referral_assign(actor=world.b.focal_point, referral=reassigned, caseworker=world.b.caseworker2)
    wide = ConsentRecordFactory(
        person=world.person,
        recipient_scope="named",
        recipients=[world.b.id, world.c.id],
        purposes=["gbv_case_management"],
        data_categories=["given_name", "phone"],
    )
    parent = world.send(consent=wide)
    services.referral_transition(actor=world.b.caseworker, referral=parent, action="accept")
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    child = services.referral_refer_onward(
        actor=world.b.caseworker, referral=parent, to_service=service_c, idempotency_key="agree"
    )
    users = [
        getattr(org, role)
        for org in (world.a, world.b, world.c)
        for role in ("focal_point", "caseworker", "caseworker2", "viewer")
    ]
    for user in users:
        visible = set(referral_list_visible(user=user).values_list("pk", flat=True))
        fresh = type(user).objects.get(pk=user.pk)
        for referral in (psea, reassigned, parent, child):
            assert (referral.pk in visible) == fresh.has_perm("referrals.view_referral", referral), (
                user,
                referral,
            )
