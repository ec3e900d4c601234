"""Reads scoped to what the caller may see. Both APIs use these."""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, QuerySet, Subquery
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.errors import PermissionDenied
from partners.models import Location, Membership, Organisation, Service, ServiceCategory


def is_platform_admin(user: AbstractBaseUser) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("partners.manage_platform")
    )


def second_factor_required(user: AbstractBaseUser) -> bool:
    """Staff (platform admins, operators) always sign in with a TOTP code; anyone else once they have
    confirmed an authenticator device of their own."""
    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff or user.is_superuser or TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


def totp_device_confirmed(*, user: AbstractBaseUser) -> bool:
    """Whether the person has an authenticator app of their own, confirmed with a code."""
    return user.is_authenticated and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def membership_active(*, user: AbstractBaseUser) -> Membership | None:
    """The user's one active membership (a database constraint guarantees at most one)."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_active_membership_cache", False)
    if cached is not False:
        return cached
    membership = (
        Membership.objects.select_related("organisation", "organisation__operation")
        .filter(user=user, is_active=True, organisation__is_active=True)
        .first()
    )
    user._active_membership_cache = membership
    return membership


def organisation_list_visible(*, user: AbstractBaseUser) -> QuerySet[Organisation]:
    """The directory of organisations is shared: members and platform admins see all active ones."""
    queryset = Organisation.objects.select_related("operation")
    if is_platform_admin(user):
        return queryset
    if membership_active(user=user) is None:
        return queryset.none()
    return queryset.filter(is_active=True)


def organisation_admin_list(*, user: AbstractBaseUser) -> QuerySet[Organisation]:
    """The platform admin's list: every organisation (active or not), each annotated with the
    username of its active focal point (``focal_point_username``, None without one). Nobody else
    manages organisations, so anyone else gets an empty list."""
    if not is_platform_admin(user):
        return Organisation.objects.none()
    focal_point = Membership.objects.filter(
        organisation=OuterRef("pk"), role=Membership.Role.FOCAL_POINT, is_active=True
    ).values("user__username")[:1]
    return organisation_list_visible(user=user).annotate(focal_point_username=Subquery(focal_point))


def focal_point_of(*, user: AbstractBaseUser, organisation: Organisation) -> Membership | None:
    """The organisation's active focal point, for whoever may list its memberships."""
    return (
        membership_list_visible(user=user)
        .filter(organisation=organisation, role=Membership.Role.FOCAL_POINT, is_active=True)
        .first()
    )


DSA_NONE, DSA_VALID, DSA_NOT_STARTED, DSA_EXPIRED = "none", "valid", "not_started", "expired"


def dsa_state(organisation: Organisation, *, on: date | None = None) -> str:
    """Where the data-sharing agreement stands: ``none`` recorded, ``valid`` (referrals may be sent,
    ``Organisation.has_valid_dsa``), ``not_started`` (signed on a later date) or ``expired``."""
    if organisation.dsa_signed_on is None:
        return DSA_NONE
    if organisation.has_valid_dsa(on):
        return DSA_VALID
    if organisation.dsa_signed_on > (on or date.today()):
        return DSA_NOT_STARTED
    return DSA_EXPIRED


def membership_list_visible(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    """Members of the caller's own organisation; platform admins see every membership."""
    queryset = Membership.objects.select_related("user", "organisation")
    if is_platform_admin(user):
        return queryset
    membership = membership_active(user=user)
    if membership is None:
        return queryset.none()
    return queryset.filter(organisation_id=membership.organisation_id)


def service_list_visible(*, user: AbstractBaseUser) -> QuerySet[Service]:
    """The service directory: every authenticated user reads services of active organisations."""
    queryset = Service.objects.select_related("organisation", "category").prefetch_related("locations")
    if is_platform_admin(user):
        return queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    return queryset.filter(organisation__is_active=True)


def location_list_visible(*, user: AbstractBaseUser) -> QuerySet[Location]:
    """Places of the directory: readable by members of an organisation and platform admins."""
    if is_platform_admin(user) or membership_active(user=user) is not None:
        return Location.objects.all()
    return Location.objects.none()


def organisation_managed(*, user: AbstractBaseUser) -> Organisation:
    """The organisation ``user`` is the active focal point of; anyone else is refused (403), as the
    services refuse them (``focal_point_required``)."""
    membership = membership_active(user=user)
    if membership is None or membership.role != Membership.Role.FOCAL_POINT:
        raise PermissionDenied(
            "Only the organisation's focal point may do this.", code="focal_point_required"
        )
    return membership.organisation


def service_list_managed(*, user: AbstractBaseUser) -> QuerySet[Service]:
    """The services the caller manages: their own organisation's, as its focal point (else 403).
    Another organisation's service is not among them, exactly like one that does not exist."""
    organisation = organisation_managed(user=user)
    return (
        Service.objects.filter(organisation=organisation)
        .select_related("organisation", "category")
        .prefetch_related("locations")
        .order_by("name", "id")
    )


def service_category_list() -> QuerySet[ServiceCategory]:
    """The taxonomy a service is filed under: shared by every organisation."""
    return ServiceCategory.objects.order_by("name", "code")


def organisation_can_receive_referrals(*, organisation: Organisation) -> tuple[bool, str | None]:
    """Whether referrals may be sent to this organisation now, and if not, the stable reason code."""
    if not organisation.is_active:
        return False, "organisation_inactive"
    if not organisation.has_valid_dsa():
        return False, "organisation_without_valid_dsa"
    if not Membership.objects.filter(organisation=organisation, role="focal_point", is_active=True).exists():
        return False, "organisation_without_focal_point"
    return True, None
