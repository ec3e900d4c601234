"""The platform admin's organisation list, the focal point of an organisation, the agreement state."""

from datetime import date, timedelta

import pytest

from partners.models import Membership
from partners.selectors import dsa_state, focal_point_of, organisation_admin_list
from tests.factories import MembershipFactory, OrganisationFactory

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("signed_on", "expires_on", "state"),
    [
        (None, None, "none"),
        (TODAY - timedelta(days=1), None, "valid"),
        (TODAY - timedelta(days=30), TODAY, "valid"),
        (TODAY - timedelta(days=30), TODAY - timedelta(days=1), "expired"),
        (TODAY + timedelta(days=1), TODAY + timedelta(days=90), "not_started"),
    ],
)
def test_agreement_state_follows_the_validity_rule(db, signed_on, expires_on, state):
    organisation = OrganisationFactory.build(dsa_signed_on=signed_on, dsa_expires_on=expires_on)
    assert dsa_state(organisation, on=TODAY) == state


def test_admin_list_holds_every_organisation_with_its_focal_point(platform_admin, org_a):
    inactive = OrganisationFactory(is_active=False)
    MembershipFactory(organisation=inactive, role=Membership.Role.FOCAL_POINT, is_active=False)
    rows = {row.pk: row.focal_point_username for row in organisation_admin_list(user=platform_admin)}
    assert rows == {org_a.pk: org_a.focal_point.username, inactive.pk: None}


def test_nobody_else_gets_the_admin_list(org_a):
    assert list(organisation_admin_list(user=org_a.focal_point)) == []


def test_focal_point_of_is_for_those_who_may_list_the_members(platform_admin, org_a, org_b):
    assert focal_point_of(user=platform_admin, organisation=org_a).user == org_a.focal_point
    assert focal_point_of(user=org_b.focal_point, organisation=org_a) is None
