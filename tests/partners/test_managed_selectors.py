"""What a focal point manages: their own organisation and its services, nobody else's."""

import pytest

from common.errors import PermissionDenied
from partners.selectors import organisation_managed, service_category_list, service_list_managed
from partners.services import membership_deactivate
from tests.factories import ServiceCategoryFactory, ServiceFactory, UserFactory
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db


def test_the_focal_point_manages_their_own_organisation():
    world = build_world()
    assert organisation_managed(user=world.b.focal_point) == world.b


@pytest.mark.parametrize("who", ["caseworker", "viewer"])
def test_a_member_who_is_not_the_focal_point_is_refused(who):
    world = build_world()
    with pytest.raises(PermissionDenied) as refused:
        organisation_managed(user=getattr(world.b, who))
    assert refused.value.code == "focal_point_required"


def test_a_user_without_membership_is_refused():
    build_world()
    with pytest.raises(PermissionDenied):
        organisation_managed(user=UserFactory())
    with pytest.raises(PermissionDenied):
        service_list_managed(user=UserFactory())


def test_a_deactivated_organisation_is_managed_by_nobody():
    world = build_world()
    world.b.is_active = False
    world.b.save()
    with pytest.raises(PermissionDenied):
        organisation_managed(user=world.b.focal_point)


def test_managed_services_are_the_own_organisations_only():
    world = build_world()
    ServiceFactory(organisation=world.a, name="Of A")
    assert list(service_list_managed(user=world.b.focal_point)) == [world.service_b]


def test_a_deactivated_caseworker_manages_nothing():
    world = build_world()
    membership = world.b.caseworker.memberships.get(is_active=True)
    membership_deactivate(actor=world.b.focal_point, membership=membership)
    with pytest.raises(PermissionDenied):
        service_list_managed(user=world.b.caseworker)


def test_categories_are_listed_by_name():
    ServiceCategoryFactory(code="z_code", name="Alpha")
    ServiceCategoryFactory(code="a_code", name="Beta")
    names = [category.name for category in service_category_list()]
    assert names.index("Alpha") < names.index("Beta")
