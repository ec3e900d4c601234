"""factory-boy factories. They build valid rows directly; tests of rules call the services."""

import time
from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners.models import Location, Membership, Operation, Organisation, Service, ServiceCategory

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery-staple")


class PlatformAdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def platform_permission(self, create, extracted, **kwargs):
        if create:
            self.user_permissions.add(Permission.objects.get(codename="manage_platform"))


def confirmed_totp_device(user) -> TOTPDevice:
    """The user's authenticator device (a real secret, confirmed)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test authenticator", confirmed=True
    )


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` time steps later) for ``device``:
    computed from the device's key with RFC 6238, the verification itself is never mocked."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return str(totp.token()).zfill(device.digits)


def wrong_totp_code(device: TOTPDevice) -> str:
    """A code the device does not accept now (none of the steps its tolerance allows)."""
    accepted = {totp_code(device, steps_ahead=n) for n in range(-device.tolerance, device.tolerance + 1)}
    return next(code for n in range(10) if (code := str(n) * device.digits) not in accepted)


class OperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operation
        django_get_or_create = ("name",)

    name = "Test operation"
    country_code = "KE"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    operation = factory.SubFactory(OperationFactory)
    name = factory.Sequence(lambda n: f"Camp {n}")
    kind = Location.Kind.CAMP


class ServiceCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category_{n}")
    name = factory.LazyAttribute(lambda c: c.code.replace("_", " ").capitalize())


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"organisation:test-{n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    """An organisation ready to receive referrals: active, valid agreement (focal point: see below)."""

    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    acronym = factory.Sequence(lambda n: f"ORG{n}")
    kind = Organisation.Kind.NATIONAL_NGO
    operation = factory.SubFactory(OperationFactory)
    group = factory.SubFactory(GroupFactory)
    dsa_signed_on = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    dsa_expires_on = factory.LazyFunction(lambda: date.today() + timedelta(days=335))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.CASEWORKER

    @factory.post_generation
    def join_group(self, create, extracted, **kwargs):
        if create and self.is_active:
            self.user.groups.add(self.organisation.group)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory)
    category = factory.SubFactory(ServiceCategoryFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    required_fields = factory.LazyFunction(lambda: ["given_name", "phone"])
    optional_fields = factory.LazyFunction(lambda: ["best_time_to_call"])


def member(organisation: Organisation, role: str = Membership.Role.CASEWORKER, **user_fields):
    """A user with an active membership of ``organisation`` in ``role``."""
    return MembershipFactory(organisation=organisation, role=role, user=UserFactory(**user_fields)).user


def organisation_with_focal_point(**fields) -> tuple[Organisation, object]:
    organisation = OrganisationFactory(**fields)
    return organisation, member(organisation, Membership.Role.FOCAL_POINT)


# consent -----------------------------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from consent.models import ConsentRecord, Person  # noqa: E402


class PersonFactory(factory.django.DjangoModelFactory):
    """An adult held by ``organisation``, with a few encrypted personal fields filled in."""

    class Meta:
        model = Person

    organisation = factory.SubFactory(OrganisationFactory)
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+254 700 {n:06d}")
    sex = Person.Sex.FEMALE
    age_band = "18_59"


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    """An active consent record (scope: pathway recipients, given name and phone, 90 days)."""

    class Meta:
        model = ConsentRecord

    person = factory.SubFactory(PersonFactory)
    organisation = factory.LazyAttribute(lambda record: record.person.organisation)
    obtained_by = factory.SubFactory(UserFactory)
    obtained_at = factory.LazyFunction(timezone.now)
    collection_method = "oral"
    language = "en"
    purposes = factory.LazyFunction(lambda: ["gbv_case_management"])
    recipient_scope = "pathway"
    data_categories = factory.LazyFunction(lambda: ["given_name", "phone"])
    expires_on = factory.LazyFunction(lambda: date.today() + timedelta(days=90))


# Pathways ----------------------------------------------------------------------------------
# (imported here, at the end, so the partners factories above stay untouched)
from pathways.models import Pathway, PathwayLink, PathwayStep  # noqa: E402


class PathwayFactory(factory.django.DjangoModelFactory):
    """A draft pathway; build published ones through ``pathways.services.pathway_publish``."""

    class Meta:
        model = Pathway

    operation = factory.SubFactory(OperationFactory)
    name = factory.Sequence(lambda n: f"Pathway {n}")
    theme = Pathway.Theme.GBV


class PathwayStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PathwayStep

    pathway = factory.SubFactory(PathwayFactory)
    service = factory.SubFactory(
        ServiceFactory, organisation=factory.LazyFunction(lambda: organisation_with_focal_point()[0])
    )
    key = factory.Sequence(lambda n: f"s{n}")


class PathwayLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PathwayLink

    pathway = factory.SelfAttribute("from_step.pathway")
    from_step = factory.SubFactory(PathwayStepFactory)
    to_step = factory.SubFactory(PathwayStepFactory, pathway=factory.SelfAttribute("..from_step.pathway"))
    key = factory.Sequence(lambda n: f"l{n}")
