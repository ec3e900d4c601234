"""Rules of partners.services, called directly (the API tests call them through HTTP)."""

import json
import uuid

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from common.errors import Conflict, PermissionDenied, ServiceError
from partners import services
from partners.hsds.errors import HsdsImportError
from partners.hsds.imports import hsds_import
from partners.models import Membership, Service
from partners.selectors import organisation_can_receive_referrals
from tests.factories import (
    MembershipFactory,
    OperationFactory,
    OrganisationFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    UserFactory,
    member,
)
from tests.hsds.conftest import write_json

pytestmark = pytest.mark.django_db


def test_second_active_focal_point_is_an_integrity_error(org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(organisation=org_a, role=Membership.Role.FOCAL_POINT)


def test_inactive_focal_point_row_does_not_count_towards_the_limit(org_a):
    MembershipFactory(organisation=org_a, role=Membership.Role.FOCAL_POINT, is_active=False)
    assert Membership.objects.filter(organisation=org_a, role="focal_point").count() == 2


def test_a_user_has_one_active_membership(org_a, org_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(organisation=org_b, user=org_a.caseworker)


def test_appoint_hands_over_and_demotes_the_previous_focal_point(platform_admin, org_a):
    previous = org_a.focal_point
    new = org_a.caseworker
    services.focal_point_appoint(actor=platform_admin, organisation=org_a, user=new)
    assert Membership.objects.get(user=previous, is_active=True).role == Membership.Role.CASEWORKER
    assert Membership.objects.get(user=new, is_active=True).role == Membership.Role.FOCAL_POINT
    assert Membership.objects.filter(organisation=org_a, role="focal_point", is_active=True).count() == 1


def test_appoint_is_atomic_when_it_fails_mid_way(platform_admin, org_a, monkeypatch):
    """The old focal point is demoted first; if promoting the new one fails, the demotion is undone."""
    new = org_a.caseworker
    real_save = services.save_with_history

    def save_then_fail_on_promotion(instance, actor):
        if isinstance(instance, Membership) and instance.role == Membership.Role.FOCAL_POINT:
            raise RuntimeError("disk full")
        real_save(instance, actor)

    monkeypatch.setattr(services, "save_with_history", save_then_fail_on_promotion)
    with pytest.raises(RuntimeError):
        services.focal_point_appoint(actor=platform_admin, organisation=org_a, user=new)
    assert Membership.objects.get(user=org_a.focal_point, is_active=True).role == Membership.Role.FOCAL_POINT
    assert Membership.objects.get(user=new, is_active=True).role == Membership.Role.CASEWORKER


def test_only_platform_admins_appoint_focal_points(org_a):
    with pytest.raises(PermissionDenied):
        services.focal_point_appoint(actor=org_a.focal_point, organisation=org_a, user=org_a.caseworker)


def test_staff_without_the_platform_permission_is_not_a_platform_admin(org_a):
    staff = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.focal_point_appoint(actor=staff, organisation=org_a, user=org_a.caseworker)


def test_focal_point_cannot_come_from_another_organisation(platform_admin, org_a, org_b):
    with pytest.raises(Conflict) as exc:
        services.focal_point_appoint(actor=platform_admin, organisation=org_a, user=org_b.caseworker)
    assert exc.value.code == "user_in_other_organisation"


def test_focal_point_cannot_add_a_second_focal_point(org_a):
    with pytest.raises(ServiceError) as exc:
        services.member_add(actor=org_a.focal_point, organisation=org_a, username="newfp", role="focal_point")
    assert exc.value.code == "role_not_assignable"


def test_focal_point_cannot_promote_a_member_to_focal_point(org_a):
    membership = Membership.objects.get(user=org_a.caseworker)
    with pytest.raises(ServiceError) as exc:
        services.membership_set_role(actor=org_a.focal_point, membership=membership, role="focal_point")
    assert exc.value.code == "role_not_assignable"


def test_focal_point_cannot_be_deactivated_before_hand_over(platform_admin, org_a):
    membership = Membership.objects.get(user=org_a.focal_point)
    with pytest.raises(ServiceError) as exc:
        services.membership_deactivate(actor=platform_admin, membership=membership)
    assert exc.value.code == "focal_point_cannot_be_deactivated"


def test_caseworker_cannot_manage_members(org_a):
    with pytest.raises(PermissionDenied):
        services.member_add(actor=org_a.caseworker, organisation=org_a, username="x", role="viewer")


def test_deactivated_member_leaves_the_organisation_group(org_a):
    membership = Membership.objects.get(user=org_a.caseworker)
    services.membership_deactivate(actor=org_a.focal_point, membership=membership)
    assert not org_a.caseworker.groups.filter(pk=org_a.group_id).exists()


def test_history_records_the_acting_user(org_a):
    membership = Membership.objects.get(user=org_a.caseworker)
    services.membership_set_role(actor=org_a.focal_point, membership=membership, role="viewer")
    latest = membership.history.first()
    assert latest.role == "viewer"
    assert latest.history_user == org_a.focal_point


@pytest.mark.parametrize("field", ["required_fields", "optional_fields"])
def test_unknown_disclosure_field_is_rejected_by_name(org_a, field):
    with pytest.raises(ServiceError) as exc:
        services.service_create(
            actor=org_a.focal_point,
            organisation=org_a,
            name="Shoe service",
            category=ServiceCategoryFactory(),
            **{field: ["given_name", "shoe_size"]},
        )
    assert exc.value.code == "unknown_disclosure_field"
    assert exc.value.field == field
    assert "shoe_size" in exc.value.message


def test_database_refuses_unknown_disclosure_field_even_without_the_service(org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceFactory(organisation=org_a, required_fields=["shoe_size"])


def test_field_cannot_be_required_and_optional(org_a):
    with pytest.raises(ServiceError) as exc:
        services.service_create(
            actor=org_a.focal_point,
            organisation=org_a,
            name="Overlap",
            category=ServiceCategoryFactory(),
            required_fields=["phone"],
            optional_fields=["phone"],
        )
    assert exc.value.code == "field_required_and_optional"


def test_focal_point_of_a_cannot_edit_services_of_b(org_a, org_b):
    service = ServiceFactory(organisation=org_b)
    with pytest.raises(PermissionDenied):
        services.service_update(actor=org_a.focal_point, service=service, is_accepting_referrals=False)
    service.refresh_from_db()
    assert service.is_accepting_referrals is True


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"is_active": False}, "organisation_inactive"),
        ({"dsa_signed_on": None, "dsa_expires_on": None}, "organisation_without_valid_dsa"),
    ],
)
def test_organisation_that_cannot_receive_referrals_says_why(change, reason):
    organisation = OrganisationFactory(**change)
    member(organisation, Membership.Role.FOCAL_POINT)
    assert organisation_can_receive_referrals(organisation=organisation) == (False, reason)


def test_organisation_without_focal_point_cannot_receive_referrals():
    organisation = OrganisationFactory(operation=OperationFactory())
    assert organisation_can_receive_referrals(organisation=organisation) == (
        False,
        "organisation_without_focal_point",
    )


def test_expired_agreement_means_no_referrals(org_a):
    from datetime import date, timedelta

    org_a.dsa_signed_on = date.today() - timedelta(days=400)
    org_a.dsa_expires_on = date.today() - timedelta(days=1)
    org_a.save()
    assert organisation_can_receive_referrals(organisation=org_a) == (False, "organisation_without_valid_dsa")


def test_ready_organisation_can_receive_referrals(org_a):
    assert organisation_can_receive_referrals(organisation=org_a) == (True, None)


@pytest.mark.parametrize("languages", [["English"], ["EN"], ["e"], ["en", "arabic"]])
def test_service_languages_must_be_iso_639_codes(org_a, languages):
    with pytest.raises(ServiceError) as exc:
        services.service_create(
            actor=org_a.focal_point,
            organisation=org_a,
            name="Counselling",
            category=ServiceCategoryFactory(),
            languages=languages,
        )
    assert exc.value.code == "invalid_language_code" and exc.value.field == "languages"


def test_service_languages_accept_two_and_three_letter_codes(org_a):
    service = services.service_create(
        actor=org_a.focal_point,
        organisation=org_a,
        name="Counselling",
        category=ServiceCategoryFactory(),
        languages=["en", "ar", "swh"],
    )
    assert service.languages == ["en", "ar", "swh"]


# One rule for an edit and an import ----------------------------------------------------------
# The HSDS importer holds a file to service_data_problems, the twin of the checks service_update
# raises: the same limit refuses the same value, in the same words.


def _refused_by_service_update(service, **data) -> ServiceError:
    focal_point = Membership.objects.get(
        organisation=service.organisation, role=Membership.Role.FOCAL_POINT, is_active=True
    ).user
    with pytest.raises(ServiceError) as caught:
        services.service_update(actor=focal_point, service=service, **data)
    return caught.value


def _refused_by_hsds_import(tmp_path, service, **document) -> HsdsImportError:
    row = {
        "id": str(service.pk),
        "name": service.name,
        "status": "active",
        "organization_id": str(service.organisation_id),
        **document,
    }
    before = Service.history.count()
    with pytest.raises(HsdsImportError) as caught:
        hsds_import(path=write_json(tmp_path, "service.json", row))
    assert Service.history.count() == before
    return caught.value


def test_service_update_refuses_a_response_target_beyond_a_year(org_a):
    service = ServiceFactory(organisation=org_a)
    error = _refused_by_service_update(service, response_hours_urgent=services.MAX_RESPONSE_HOURS + 1)
    assert (error.code, error.field) == ("invalid", "response_hours_urgent")
    assert services.MAX_RESPONSE_HOURS == 8760
    service.refresh_from_db()
    assert service.response_hours_urgent == 72

    updated = services.service_update(
        actor=org_a.focal_point, service=service, response_hours_urgent=services.MAX_RESPONSE_HOURS
    )
    assert updated.response_hours_urgent == 8760


def test_an_outcome_is_due_within_a_year_of_acceptance_or_never(org_a, tmp_path):
    service = ServiceFactory(organisation=org_a)
    for days in (0, services.MAX_OUTCOME_DUE_DAYS + 1, True, 2.5):
        error = _refused_by_service_update(service, outcome_due_days=days)
        assert (error.code, error.field) == ("invalid", "outcome_due_days")
    assert services.MAX_OUTCOME_DUE_DAYS == 365
    for days in (1, 365, None):
        updated = services.service_update(actor=org_a.focal_point, service=service, outcome_due_days=days)
        assert Service.objects.get(pk=updated.pk).outcome_due_days == days
    # an HSDS import sets it too, through the same rules
    row = {
        "id": str(service.pk),
        "name": service.name,
        "status": "active",
        "organization_id": str(service.organisation_id),
        "referral_hub": {"outcome_due_days": 21},
    }
    hsds_import(path=write_json(tmp_path, "service.json", row))
    assert Service.objects.get(pk=service.pk).outcome_due_days == 21
    error = _refused_by_hsds_import(tmp_path, service, referral_hub={"outcome_due_days": "21"})
    assert (error.code, error.field) == ("hsds_invalid_profile", "referral_hub.outcome_due_days")


@pytest.mark.parametrize(
    ("profile", "data", "where"),
    [
        ({"response_hours": {"urgent": 8761}}, {"response_hours_urgent": 8761}, "response_hours.urgent"),
        ({"response_hours": {"emergency": 0}}, {"response_hours_emergency": 0}, "response_hours.emergency"),
        ({"response_hours": {"normal": True}}, {"response_hours_normal": True}, "response_hours.normal"),
        ({"required_fields": ["phone", "blood_type"]}, {"required_fields": ["phone", "blood_type"]}, None),
        ({"optional_fields": ["phone", "phone"]}, {"optional_fields": ["phone", "phone"]}, None),
        (
            {"required_fields": ["phone"], "optional_fields": ["phone"]},
            {"required_fields": ["phone"], "optional_fields": ["phone"]},
            "optional_fields",
        ),
        ({"sexes": ["female", "alien"]}, {"sexes": ["female", "alien"]}, None),
        ({"specific_needs": ["x" * 65]}, {"specific_needs": ["x" * 65]}, None),
        ({"outcome_due_days": 0}, {"outcome_due_days": 0}, None),
        ({"outcome_due_days": 366}, {"outcome_due_days": 366}, None),
    ],
)
def test_hsds_import_refuses_what_service_update_refuses_in_the_same_words(
    org_a, tmp_path, profile, data, where
):
    service = ServiceFactory(organisation=org_a)
    by_service = _refused_by_service_update(service, **data)
    by_import = _refused_by_hsds_import(tmp_path, service, referral_hub=profile)

    assert by_import.code == "hsds_invalid_profile"
    assert by_import.field == f"referral_hub.{where or by_service.field}"
    assert by_import.problem == by_service.message
    assert by_import.message == f"service.json, document at /, field {by_import.field}: {by_service.message}"


def test_the_hsds_profile_schema_publishes_the_services_response_limit():
    schema = json.loads((settings.BASE_DIR / "docs" / "hsds-profile" / "service.json").read_text())
    hours = schema["properties"]["referral_hub"]["properties"]["response_hours"]["properties"]
    assert {urgency: (spec["minimum"], spec["maximum"]) for urgency, spec in hours.items()} == {
        urgency: (1, services.MAX_RESPONSE_HOURS) for urgency in services.URGENCIES
    }


@pytest.mark.parametrize("code", ["English", "EN", "e", "swh-Latn1234"])
def test_a_language_code_is_refused_identically_by_service_update_and_hsds_import(org_a, tmp_path, code):
    service = ServiceFactory(organisation=org_a, languages=["en"])
    by_service = _refused_by_service_update(service, languages=["ar", code])
    language = {"id": str(uuid.uuid4()), "name": "Some language", "code": code}
    by_import = _refused_by_hsds_import(tmp_path, service, languages=[language])

    assert (by_service.code, by_service.field) == ("invalid_language_code", "languages")
    assert (by_import.code, by_import.field) == ("hsds_invalid", "code")
    assert by_import.problem == by_service.message
    assert code in by_service.message
    service.refresh_from_db()
    assert service.languages == ["en"]


def test_an_age_range_upside_down_is_refused_identically_by_service_update_and_hsds_import(org_a, tmp_path):
    service = ServiceFactory(organisation=org_a)
    by_service = _refused_by_service_update(service, min_age=30, max_age=10)
    by_import = _refused_by_hsds_import(tmp_path, service, minimum_age=30, maximum_age=10)

    assert (by_service.code, by_service.field) == ("invalid", "max_age")
    assert (by_import.code, by_import.field) == ("hsds_invalid", "maximum_age")
    assert by_import.problem == by_service.message


def test_a_reimport_cannot_make_a_required_field_optional_too(org_a, tmp_path):
    service = ServiceFactory(organisation=org_a, required_fields=["given_name", "phone"], optional_fields=[])
    by_service = _refused_by_service_update(service, optional_fields=["phone"])
    by_import = _refused_by_hsds_import(tmp_path, service, referral_hub={"optional_fields": ["phone"]})

    assert by_service.code == "field_required_and_optional"
    assert (by_import.code, by_import.field) == ("hsds_invalid_profile", "referral_hub.optional_fields")
    assert by_import.problem == by_service.message


def test_service_data_problems_names_every_broken_rule_without_raising():
    problems = services.service_data_problems(
        {
            "colour": "red",
            "required_fields": ["blood_type"],
            "languages": ["English"],
            "response_hours_normal": 9000,
            "min_age": 18,
            "max_age": 5,
        }
    )
    assert [(problem.field, problem.code) for problem in problems] == [
        (None, "field_not_editable"),
        ("required_fields", "unknown_disclosure_field"),
        ("languages", "invalid_language_code"),
        ("response_hours_normal", "invalid"),
        ("max_age", "invalid"),
    ]
    assert services.service_data_problems({"languages": ["en", "swh"], "response_hours_urgent": 8760}) == []
