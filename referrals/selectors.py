"""Reads of referrals, scoped to what the caller may see. REST and GraphQL both use these.

Visibility comes from the object grants (django-guardian's direct foreign-key tables), joined
against the indexed organisation columns rather than guardian's ``get_objects_for_user``, whose
``pk IN (…) OR pk IN (…)`` subqueries make PostgreSQL scan the whole referral table.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from guardian.core import ObjectPermissionChecker

from common.errors import NotFound
from partners.selectors import membership_active
from referrals.models import (
    AccessLog,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)


def permission_id(codename: str):
    """The permission's id as a subquery: PostgreSQL evaluates it once per statement (an InitPlan)."""
    return Subquery(
        Permission.objects.filter(content_type__app_label="referrals", codename=codename).values("pk")[:1]
    )


def referral_list_visible(*, user: AbstractBaseUser, permission: str = "view_referral") -> QuerySet[Referral]:
    membership = membership_active(user=user)
    if membership is None:
        return Referral.objects.none()
    organisation = membership.organisation
    perm = permission_id(permission)
    group_grant = ReferralGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"), group_id=organisation.group_id, permission_id=perm
    )
    user_grant = ReferralUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user_id=user.pk, permission_id=perm
    )
    return Referral.objects.filter(
        Q(to_organisation_id=organisation.id) | Q(from_organisation_id=organisation.id)
    ).filter(Exists(group_grant) | Exists(user_grant))


def referral_get_visible(*, user: AbstractBaseUser, referral_id) -> Referral:
    try:
        return referral_list_visible(user=user).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("No such referral.", code="referral_not_found") from exc


def with_details(queryset: QuerySet[Referral]) -> QuerySet[Referral]:
    """What a list shows, in a fixed number of queries whatever the page size."""
    return queryset.select_related(
        "from_organisation",
        "to_organisation",
        "from_service",
        "to_service",
        "to_service__category",
        "pathway",
        "assigned_to",
    )


def overdue_filter(value: bool) -> Q:
    awaiting = Q(status__in=Referral.AWAITING_ANSWER, due_by__lt=timezone.now())
    return awaiting if value else ~awaiting


def events_of(*, referral: Referral) -> QuerySet[ReferralEvent]:
    return referral.events.select_related("actor", "organisation").order_by("at", "id")


def access_log_of(*, referral: Referral) -> QuerySet[AccessLog]:
    return referral.access_log.select_related("user", "organisation").order_by("-at")


def permission_checker(*, user: AbstractBaseUser, referrals) -> ObjectPermissionChecker:
    """One checker per request, its grants prefetched for the page: has_perm then costs nothing."""
    checker = ObjectPermissionChecker(user)
    referrals = list(referrals)
    if referrals:
        checker.prefetch_perms(referrals)
    return checker


def information_given_counts(*, user: AbstractBaseUser, since=None) -> list[dict]:
    """How often the caller's organisation gave out each service's contact details, by channel."""
    from django.db.models import Count

    from referrals.models import InformationGiven

    membership = membership_active(user=user)
    if membership is None:
        return []
    queryset = InformationGiven.objects.filter(organisation_id=membership.organisation_id)
    if since is not None:
        queryset = queryset.filter(at__date__gte=since)
    return list(
        queryset.values("service_id", "service__name", "channel")
        .annotate(count=Count("id"))
        .order_by("service__name", "channel")
    )
