from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from consent import services
from partners.models import Membership
from tests.factories import ServiceCategoryFactory, member


@pytest.fixture
def gbv(db):
    return ServiceCategoryFactory(code="gbv_case_management", name="GBV case management")


@pytest.fixture
def legal(db):
    return ServiceCategoryFactory(code="legal_aid", name="Legal aid")


@pytest.fixture
def viewer_a(org_a):
    return member(org_a, Membership.Role.VIEWER)


@pytest.fixture
def deciding_officer(org_a):
    """A caseworker of A allowed to record a legal basis other than consent."""
    user = member(org_a)
    user.user_permissions.add(Permission.objects.get(codename="record_non_consent_basis"))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def adult_a(org_a):
    return services.person_create(
        actor=org_a.caseworker,
        registration_number="KAK-23-000101",
        given_name="Amani",
        family_name="Wekesa",
        phone="+254 711 222 333",
        sex="female",
        age_band="18_59",
    )


@pytest.fixture
def child_a(org_a):
    today = timezone.localdate()
    return services.person_create(
        actor=org_a.caseworker,
        given_name="Akol",
        sex="male",
        date_of_birth=today.replace(year=today.year - 14),
    )


def scope(**overrides) -> dict:
    """A valid consent scope for an adult, naming pathway recipients."""
    data = {
        "collection_method": "oral",
        "language": "en",
        "purposes": ["gbv_case_management"],
        "recipient_scope": "pathway",
        "data_categories": ["given_name", "phone"],
        "expires_on": timezone.localdate() + timedelta(days=90),
    }
    data.update(overrides)
    return data


@pytest.fixture
def consent_a(org_a, org_b, adult_a, gbv):
    return services.consent_create(
        actor=org_a.caseworker,
        person=adult_a,
        **scope(
            recipient_scope="named", recipients=[org_b.pk], data_categories=["given_name", "phone", "sex"]
        ),
    )
