"""Sending: consent first, minimal data, a receiving side that can answer, idempotency."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from common.errors import NotFound, PermissionDenied, ServiceError
from partners.vocabulary import DISCLOSURE_FIELDS, SENSITIVE_FIELDS
from referrals.disclosure import disclosure_for
from referrals.models import Notification, Referral, ReferralEvent
from referrals.selectors import referral_list_visible
from tests.factories import ServiceFactory
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_an_optional_field_the_consent_does_not_cover_is_refused_by_name(world):
    # protection_concerns is offered by the service and chosen, but the consent does not name it:
    # refused, so the officer never believes it was sent
    with pytest.raises(ServiceError) as exc:
        world.send(optional_fields=["best_time_to_call", "protection_concerns"])
    assert exc.value.code == "consent_not_covering_field" and exc.value.field == "optional_fields"
    assert exc.value.extra == {"missing_fields": ["protection_concerns"]}
    assert "protection_concerns" in exc.value.message
    assert not Referral.objects.exists()


def test_send_shares_exactly_what_the_service_needs_and_the_consent_covers(world):
    referral = world.send(optional_fields=["best_time_to_call"])
    assert referral.shared_fields == ["given_name", "phone", "best_time_to_call"]
    assert referral.payload == {
        "given_name": "Amal",
        "phone": "+254700111222",
        "best_time_to_call": "mornings",
    }
    assert referral.status == "sent"
    assert referral.to_organisation == world.b
    assert list(referral.events.values_list("kind", flat=True)) == ["sent"]


def test_due_by_follows_the_services_target_for_the_urgency(world):
    world.service_b.response_hours_emergency = 6
    world.service_b.save()
    before = timezone.now()
    referral = world.send(urgency="emergency")
    assert before + timedelta(hours=6) <= referral.due_by <= timezone.now() + timedelta(hours=6)


def test_receiving_organisation_gets_view_and_respond_sender_keeps_manage(world):
    referral = world.send()
    assert world.b.caseworker.has_perm("referrals.view_referral", referral)
    assert world.b.caseworker.has_perm("referrals.respond_referral", referral)
    assert not world.b.caseworker.has_perm("referrals.manage_referral", referral)
    assert world.a.caseworker2.has_perm("referrals.manage_referral", referral)
    assert not world.c.focal_point.has_perm("referrals.view_referral", referral)
    assert list(referral_list_visible(user=world.c.focal_point)) == []


def test_notification_carries_no_personal_data(world):
    referral = world.send(reason_note="she fears for her safety")
    notification = Notification.objects.get(referral=referral)
    assert notification.recipient == world.b.focal_point
    text = " ".join(str(getattr(notification, f.attname)) for f in Notification._meta.fields)
    for value in ("Amal", "+254700111222", "mornings", "safety"):
        assert value not in text
    assert notification.link == f"/api/v1/referrals/{referral.id}"


def test_note_stays_with_the_sender_when_narrative_is_not_consented(world):
    referral = world.send(reason_note="she fears for her safety")
    assert referral.has_note and not referral.note_shared
    assert "narrative" not in referral.shared_fields and "narrative" not in referral.payload
    assert referral.reason_note == "she fears for her safety"


def test_note_travels_as_the_narrative_when_asked_for_and_consented():
    world = build_world(data_categories=["given_name", "phone", "narrative"])
    referral = world.send(reason_note="she fears for her safety", optional_fields=["narrative"])
    assert referral.note_shared
    assert referral.payload["narrative"] == "she fears for her safety"


def test_note_stays_with_the_sender_when_the_service_did_not_ask_for_the_narrative():
    # consented, but need to know: neither required by the service nor chosen by the officer
    world = build_world(data_categories=["given_name", "phone", "narrative"])
    referral = world.send(reason_note="she fears for her safety")
    assert not referral.note_shared
    assert "narrative" not in referral.payload and referral.shared_fields == ["given_name", "phone"]


@pytest.mark.parametrize("with_note", [True, False])
@pytest.mark.parametrize(
    "chosen", [(), ("best_time_to_call",), ("narrative",), ("protection_concerns", "narrative")]
)
@pytest.mark.parametrize(
    "consented",
    [
        ("given_name", "phone"),
        ("given_name", "phone", "narrative", "protection_concerns", "best_time_to_call"),
    ],
)
def test_stored_payload_is_exactly_the_intersection(with_note, chosen, consented):
    world = build_world(data_categories=list(consented))
    if set(chosen) - set(consented):
        with pytest.raises(ServiceError) as exc:
            world.send(optional_fields=list(chosen), reason_note="a note" if with_note else "")
        assert set(exc.value.extra["missing_fields"]) == set(chosen) - set(consented)
        return
    referral = world.send(optional_fields=list(chosen), reason_note="a note" if with_note else "")
    expected = ({"given_name", "phone"} | set(chosen)) & set(consented)
    assert set(referral.payload) == expected == set(referral.shared_fields)
    assert referral.note_shared == (with_note and "narrative" in expected)


@pytest.mark.parametrize("sensitive", sorted(SENSITIVE_FIELDS))
def test_sensitive_field_required_but_not_consented_is_refused_by_name(world, sensitive):
    world.service_b.required_fields = ["given_name", sensitive]
    world.service_b.optional_fields = []
    world.service_b.save()
    with pytest.raises(ServiceError) as exc:
        world.send()
    assert exc.value.code == "consent_not_covering_field"
    assert sensitive in exc.value.message
    assert not Referral.objects.exists()


@given(
    required=st.sets(st.sampled_from(DISCLOSURE_FIELDS)),
    offered=st.sets(st.sampled_from(DISCLOSURE_FIELDS)),
    chosen=st.sets(st.sampled_from(DISCLOSURE_FIELDS)),
    consented=st.sets(st.sampled_from(DISCLOSURE_FIELDS)),
)
def test_payload_is_exactly_the_intersection(required, offered, chosen, consented):
    result = disclosure_for(
        required=required, optional_offered=offered, optional_chosen=chosen, consented=consented
    )
    assert set(result.shared) == (required | (chosen & offered)) & consented
    assert set(result.missing_required) == required - consented
    assert set(result.not_offered) == chosen - offered
    assert set(result.optional_not_consented) == (chosen & offered) - consented
    assert not (set(result.shared) & SENSITIVE_FIELDS - consented)
    assert list(result.shared) == [name for name in DISCLOSURE_FIELDS if name in result.shared]


def test_optional_field_the_service_does_not_take_is_refused(world):
    with pytest.raises(ServiceError) as exc:
        world.send(optional_fields=["registration_number"])
    assert exc.value.code == "field_not_offered"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        # obtained two months ago, expired yesterday: no job has run, the check still refuses it
        (
            {
                "obtained_at": timezone.now() - timedelta(days=60),
                "expires_on": date.today() - timedelta(days=1),
            },
            "consent_expired",
        ),
        ({"purposes": ["health"]}, "consent_not_covering_purpose"),
        ({"recipient": "c"}, "consent_not_covering_recipient"),
        ({"data_categories": ["given_name"]}, "consent_not_covering_field"),
    ],
)
def test_consent_that_does_not_cover_the_referral_is_refused_naming_why(change, code):
    world = build_world(**change)
    with pytest.raises(ServiceError) as exc:
        world.send()
    assert exc.value.code == code
    if code == "consent_not_covering_field":
        assert "phone" in exc.value.message
    assert not Referral.objects.exists()


def test_withdrawn_or_superseded_consent_is_refused(world):
    from consent.services import consent_new_version, consent_withdraw

    newer = consent_new_version(
        actor=world.a.caseworker, previous=world.consent, data_categories=["given_name", "phone"]
    )
    with pytest.raises(ServiceError) as exc:
        world.send(consent=world.consent.__class__.objects.get(pk=world.consent.pk))
    assert exc.value.code == "consent_superseded"
    consent_withdraw(actor=world.a.caseworker, record=newer, channel="in_person")
    with pytest.raises(ServiceError) as exc:
        world.send(consent=newer.__class__.objects.get(pk=newer.pk))
    assert exc.value.code == "consent_withdrawn"


def test_another_organisations_person_is_not_found(world):
    with pytest.raises(NotFound):
        world.send(actor=world.c.caseworker)


def test_viewers_cannot_send(world):
    with pytest.raises(PermissionDenied) as exc:
        world.send(actor=world.a.viewer)
    assert exc.value.code == "role_cannot_act"


@pytest.mark.parametrize(
    ("breakage", "code"),
    [
        ("inactive", "organisation_inactive"),
        ("no_dsa", "organisation_without_valid_dsa"),
        ("no_focal_point", "organisation_without_focal_point"),
    ],
)
def test_receiver_that_cannot_answer_is_refused(world, breakage, code):
    from partners.models import Membership

    if breakage == "inactive":
        world.b.is_active = False
    elif breakage == "no_dsa":
        world.b.dsa_signed_on = world.b.dsa_expires_on = None
    world.b.save()
    if breakage == "no_focal_point":
        Membership.objects.filter(organisation=world.b, role="focal_point").update(is_active=False)
    with pytest.raises(ServiceError) as exc:
        world.send()
    assert exc.value.code == code


def test_service_not_accepting_is_refused_with_alternatives(world):
    from pathways.services import link_add, pathway_create, pathway_publish, step_add
    from tests.factories import PlatformAdminFactory

    admin = PlatformAdminFactory()
    other = ServiceFactory(
        organisation=world.c, category=world.service_b.category, name="GBV C", required_fields=["given_name"]
    )
    intake = ServiceFactory(organisation=world.a, name="Intake A", required_fields=["given_name"])
    pathway = pathway_create(actor=admin, operation=world.a.operation, name="GBV", theme="gbv")
    entry = step_add(actor=admin, pathway=pathway, service=intake, is_entry=True)
    to_b = step_add(actor=admin, pathway=pathway, service=world.service_b)
    to_c = step_add(actor=admin, pathway=pathway, service=other)
    link_add(actor=admin, pathway=pathway, from_step=entry, to_step=to_b, preference=1)
    link_add(actor=admin, pathway=pathway, from_step=entry, to_step=to_c, preference=2)
    pathway_publish(actor=admin, pathway=pathway)
    world.service_b.is_accepting_referrals = False
    world.service_b.save()
    with pytest.raises(ServiceError) as exc:
        world.send()
    assert exc.value.code == "service_not_accepting"
    assert [offer["name"] for offer in exc.value.extra["alternatives"]] == ["GBV C"]


def test_same_idempotency_key_returns_the_first_referral(world):
    first = world.send(idempotency_key="abc")
    again = world.send(idempotency_key="abc", urgency="emergency")
    assert again.pk == first.pk
    assert Referral.objects.count() == 1
    assert ReferralEvent.objects.count() == 1


def test_the_same_key_from_another_organisation_is_another_referral(world):
    from tests.factories import ConsentRecordFactory, PersonFactory

    world.send(idempotency_key="abc")
    person_c = PersonFactory(organisation=world.c)
    consent_c = ConsentRecordFactory(
        person=person_c,
        recipient_scope="named",
        recipients=[world.b.id],
        data_categories=["given_name", "phone"],
    )
    world.send(actor=world.c.caseworker, person=person_c, consent=consent_c, idempotency_key="abc")
    assert Referral.objects.count() == 2


def test_a_key_reused_for_a_different_referral_is_a_conflict_not_a_silent_replay(world):
    from common.errors import Conflict

    world.send(idempotency_key="k-1")
    other_service = ServiceFactory(
        organisation=world.b, category=world.service_b.category, name="Other", required_fields=["given_name"]
    )
    with pytest.raises(Conflict) as exc:
        world.send(idempotency_key="k-1", to_service=other_service)
    assert (exc.value.code, exc.value.field) == ("idempotency_key_reused", "idempotency_key")
    assert Referral.objects.count() == 1
