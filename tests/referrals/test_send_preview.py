"""The preview of a send: the same code as the send, so what it shows is what travels."""

import pytest

from common.errors import ServiceError
from referrals import services
from referrals.disclosure import NOT_ASKED, NOT_IN_CONSENT, OPTIONAL_NOT_CHOSEN, disclosure_preview
from referrals.models import Referral
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


def test_every_field_is_either_travelling_or_withheld_with_its_reason():
    preview = disclosure_preview(
        required=["given_name", "phone"],
        optional_offered=["best_time_to_call", "narrative", "protection_concerns"],
        optional_chosen=["best_time_to_call"],
        consented=["given_name", "best_time_to_call", "narrative"],
    )
    assert preview.travels == ("given_name", "best_time_to_call")
    withheld = dict(preview.withheld)
    assert withheld["phone"] == NOT_IN_CONSENT  # required, not covered: the send refuses it by name
    assert withheld["narrative"] == OPTIONAL_NOT_CHOSEN
    assert withheld["protection_concerns"] == OPTIONAL_NOT_CHOSEN
    assert withheld["family_name"] == NOT_ASKED
    assert preview.disclosure.missing_required == ("phone",)
    assert len(preview.travels) + len(preview.withheld) == 15


def test_the_check_plans_exactly_what_the_send_then_stores():
    world = build_world()
    arguments = {
        "actor": world.a.caseworker,
        "person": world.person,
        "consent": world.consent,
        "to_service": world.service_b,
        "optional_fields": ["best_time_to_call"],
        "urgency": "urgent",
    }
    plan = services.referral_send_check(**arguments)
    assert not Referral.objects.exists()  # the check writes nothing
    referral = services.referral_send(**arguments, idempotency_key="k1")
    assert tuple(referral.shared_fields) == plan.preview.travels
    assert referral.urgency == plan.urgency and referral.pathway == plan.pathway
    assert abs((referral.due_by - plan.due_by).total_seconds()) < 60
    preview = services.referral_disclosure_preview(
        consent=world.consent, to_service=world.service_b, optional_fields=["best_time_to_call"]
    )
    assert preview.travels == plan.preview.travels


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"optional_fields": ["protection_concerns"]}, "consent_not_covering_field"),
        ({"urgency": "whenever"}, "invalid"),
        ({"reason_note": "x" * 5000}, "note_too_long"),
    ],
)
def test_the_check_refuses_what_the_send_refuses(change, code):
    world = build_world()
    arguments = {
        "actor": world.a.caseworker,
        "person": world.person,
        "consent": world.consent,
        "to_service": world.service_b,
        **change,
    }
    with pytest.raises(ServiceError) as checked:
        services.referral_send_check(**arguments)
    with pytest.raises(ServiceError) as sent:
        services.referral_send(**arguments, idempotency_key="k2")
    assert checked.value.code == sent.value.code == code
    assert checked.value.field == sent.value.field


def test_the_check_refuses_a_closed_service_with_its_alternatives():
    world = build_world()
    world.service_b.is_accepting_referrals = False
    world.service_b.save()
    with pytest.raises(ServiceError) as exc:
        services.referral_send_check(
            actor=world.a.caseworker, person=world.person, consent=world.consent, to_service=world.service_b
        )
    assert exc.value.code == "service_not_accepting" and "alternatives" in exc.value.extra


def test_the_check_refuses_another_organisations_person_as_not_found():
    world = build_world()
    with pytest.raises(ServiceError) as exc:
        services.referral_send_check(
            actor=world.c.caseworker, person=world.person, consent=world.consent, to_service=world.service_b
        )
    assert exc.value.code == "person_not_found"
