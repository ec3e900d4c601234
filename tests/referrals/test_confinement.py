"""Confinement survives every path that creates, moves or copies access: each attack written out.

A referral narrowed to one caseworker, and every PSEA report, stays with exactly the people it was
confined to through assignment, onward referral (also to another service of the same
organisation), focal-point hand-over, deactivation, role change, the subject-access export and
FHIR. On the sending side a PSEA report is seen by the officer who sent it and the sending focal
point only.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import NotFound
from partners.models import Membership
from partners.services import focal_point_appoint, membership_deactivate, membership_set_role
from referrals import services
from referrals.models import Notification, Referral
from referrals.selectors import facts_for, referral_get_visible
from tests.factories import ConsentRecordFactory, PlatformAdminFactory, ServiceCategoryFactory, ServiceFactory
from tests.referrals.api_helpers import gid, ok
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_world()
    world.consent = ConsentRecordFactory(
        person=world.person,
        obtained_by=world.a.caseworker,
        recipient_scope="named",
        recipients=[world.b.id, world.c.id],
        purposes=["gbv_case_management", "psea"],
        data_categories=["given_name", "phone", "best_time_to_call"],
    )
    return world


def sees(user, referral) -> bool:
    try:
        referral_get_visible(user=user, referral_id=referral.pk)
    except NotFound:
        return False
    return True


def fresh(user):
    """The user as the next request sees them (no cached membership)."""
    return type(user).objects.get(pk=user.pk)


def psea_report(world, **kwargs):
    service = ServiceFactory(
        organisation=world.b,
        category=ServiceCategoryFactory(code="psea", name="PSEA"),
        required_fields=["given_name"],
        response_hours_emergency=4,
    )
    return world.send(to_service=service, **kwargs)


def restricted_to_caseworker(world):
    referral = world.send()
    services.referral_assign(
        actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker, restrict=True
    )
    return referral


# PSEA -----------------------------------------------------------------------------------------


def test_on_the_sending_side_a_psea_report_is_seen_by_its_sender_and_the_focal_point_only(world, api, gql):
    report = psea_report(world)
    assert sees(world.a.caseworker, report) and sees(world.a.focal_point, report)
    for colleague in (world.a.caseworker2, world.a.viewer):
        assert not sees(colleague, report)
        assert api(colleague).get(f"/api/v1/referrals/{report.id}").status_code == 404
        assert api(colleague).get("/api/v1/referrals?direction=sent").json()["results"] == []
        listing = ok(gql(colleague, "{ sentReferrals(first: 10) { edges { node { reference } } } }")[1])
        assert listing["sentReferrals"]["edges"] == []
        node = ok(
            gql(colleague, "query ($id: ID!) { node(id: $id) { id } }", {"id": gid("Referral", report)})[1]
        )
        assert node == {"node": None}
    # and on the receiving side: the PSEA focal point only
    assert sees(world.b.focal_point, report)
    assert not any(sees(user, report) for user in (world.b.caseworker, world.b.caseworker2, world.b.viewer))


def test_a_psea_report_is_referred_immediately_whatever_the_form_said(world):
    before = timezone.now()
    report = psea_report(world, urgency="normal")
    assert report.urgency == "emergency"
    assert before + timedelta(hours=4) <= report.due_by <= timezone.now() + timedelta(hours=4)
    # the receiving PSEA focal point is told at once: the event and the outbox row, in the same commit
    assert list(report.events.values_list("kind", flat=True)) == ["sent"]
    assert list(Notification.objects.filter(referral=report).values_list("recipient", "kind")) == [
        (world.b.focal_point.pk, "new_referral")
    ]


def test_a_new_sending_focal_point_takes_over_the_psea_reports_the_sender_keeps_theirs(world):
    report = psea_report(world)
    focal_point_appoint(actor=PlatformAdminFactory(), organisation=world.a, user=world.a.caseworker2)
    assert sees(fresh(world.a.caseworker2), report)  # the new sending focal point
    assert not sees(fresh(world.a.focal_point), report)  # the old one, a caseworker now
    assert sees(fresh(world.a.caseworker), report)  # the officer who sent it


def test_a_sending_focal_point_who_sent_the_report_keeps_it_after_the_hand_over(world):
    report = psea_report(world, actor=world.a.focal_point)
    focal_point_appoint(actor=PlatformAdminFactory(), organisation=world.a, user=world.a.caseworker2)
    assert sees(fresh(world.a.focal_point), report) and sees(fresh(world.a.caseworker2), report)
    assert not sees(fresh(world.a.caseworker), report)


# Onward -----------------------------------------------------------------------------------------


def test_onward_to_another_service_of_the_same_organisation_inherits_the_restriction(world):
    parent = restricted_to_caseworker(world)
    services.referral_transition(actor=world.b.caseworker, referral=parent, action="accept")
    shelter = ServiceFactory(
        organisation=world.b,
        category=world.service_b.category,
        name="Shelter B",
        required_fields=["given_name"],
    )
    child = services.referral_refer_onward(
        actor=world.b.caseworker, referral=parent, to_service=shelter, idempotency_key="inside-b"
    )
    assert child.restricted and child.assigned_to == world.b.caseworker
    assert sees(world.b.caseworker, child) and sees(world.b.focal_point, child)
    # whoever the parent was hidden from, the child is hidden from too, on both of its sides
    assert not sees(world.b.caseworker2, child) and not sees(world.b.viewer, child)
    assert facts_for(
        user=world.b.caseworker, referral=referral_get_visible(user=world.b.caseworker, referral_id=child.pk)
    ).can("accept")


def test_onward_to_another_organisation_keeps_the_sending_side_confined(world):
    parent = restricted_to_caseworker(world)
    services.referral_transition(actor=world.b.caseworker, referral=parent, action="accept")
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    child = services.referral_refer_onward(
        actor=world.b.caseworker, referral=parent, to_service=service_c, idempotency_key="to-c"
    )
    assert sees(world.b.caseworker, child) and not sees(world.b.caseworker2, child)
    assert sees(world.c.caseworker, child)  # a new organisation, a new referral of its own


def test_onward_from_a_psea_report_stays_with_the_psea_focal_point(world):
    report = psea_report(world)
    services.referral_transition(actor=world.b.focal_point, referral=report, action="accept")
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    child = services.referral_refer_onward(
        actor=world.b.focal_point, referral=report, to_service=service_c, idempotency_key="psea-on"
    )
    assert sees(world.b.focal_point, child)
    assert not any(sees(user, child) for user in (world.b.caseworker, world.b.caseworker2, world.b.viewer))


# Assignment, deactivation, role change --------------------------------------------------------


def test_reassigning_a_restricted_referral_moves_it_the_previous_caseworker_loses_it(world):
    referral = restricted_to_caseworker(world)
    services.referral_assign(actor=world.b.focal_point, referral=referral, caseworker=world.b.caseworker2)
    assert sees(world.b.caseworker2, referral) and not sees(world.b.caseworker, referral)
    assert referral_get_visible(user=world.b.caseworker2, referral_id=referral.pk).restricted


def test_a_deactivated_assignee_loses_the_referral_even_if_the_account_comes_back(world):
    referral = restricted_to_caseworker(world)
    membership = Membership.objects.get(user=world.b.caseworker, organisation=world.b)
    membership_deactivate(actor=world.b.focal_point, membership=membership)
    referral.refresh_from_db()
    assert referral.assigned_to is None  # the focal point sees it unassigned and gives it to someone
    assert sees(fresh(world.b.focal_point), referral)
    # reactivated by hand (or by a mistake): the confined referral does not come back with the account
    Membership.objects.filter(pk=membership.pk).update(is_active=True)
    world.b.caseworker.groups.add(world.b.group)
    assert not sees(fresh(world.b.caseworker), referral)
    assert sees(fresh(world.b.caseworker), world.send(idempotency_key="an-ordinary-one"))


def test_a_restricted_assignee_made_viewer_reads_but_cannot_act(world, api):
    referral = restricted_to_caseworker(world)
    membership = Membership.objects.get(user=world.b.caseworker, organisation=world.b)
    membership_set_role(actor=world.b.focal_point, membership=membership, role="viewer")
    client = api(fresh(world.b.caseworker))
    assert client.get(f"/api/v1/referrals/{referral.id}").json()["allowed_actions"] == []
    response = client.post(f"/api/v1/referrals/{referral.id}/accept", {}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "role_cannot_act"
    assert not sees(world.b.caseworker2, referral)


# Exports ----------------------------------------------------------------------------------------


def test_the_subject_access_export_holds_only_what_the_exporter_could_read(world):
    from consent import services as consent_services

    parent = world.send(reason_note="her words")
    services.referral_transition(actor=world.b.caseworker, referral=parent, action="accept")
    service_c = ServiceFactory(
        organisation=world.c, category=world.service_b.category, required_fields=["given_name"]
    )
    child = services.referral_refer_onward(
        actor=world.b.caseworker,
        referral=parent,
        to_service=service_c,
        idempotency_key="to-c",
        reason_note="B's own words about her",
    )
    services.referral_transition(
        actor=world.c.caseworker, referral=child, action="decline", reason_code="other", note="C's note"
    )
    request = consent_services.data_subject_request_create(
        actor=world.a.caseworker, person=world.person, kind="access", channel="written", details="a copy"
    )
    _done, export = consent_services.data_subject_request_complete(actor=world.a.caseworker, request=request)
    # the onward referral between B and C is not A's to hand out (A's own record names it only as the
    # reference on its "referred onward" event, as A's API does)
    assert [row["reference"] for row in export["referrals"]] == [parent.reference]
    text = str(export)
    assert "B's own words" not in text and "C's note" not in text and "declined" not in text


def test_fhir_of_a_confined_referral_is_not_found_for_those_it_was_hidden_from(world, api):
    referral = restricted_to_caseworker(world)
    assert api(world.b.caseworker2).get(f"/api/v1/referrals/{referral.id}/fhir").status_code == 404
    assert api(world.b.caseworker).get(f"/api/v1/referrals/{referral.id}/fhir").status_code == 200
    assert Referral.objects.filter(pk=referral.pk, restricted=True).exists()
