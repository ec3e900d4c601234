"""Reads of referrals, scoped to what the caller may see. REST and GraphQL both use these.

Visibility comes from the object grants (django-guardian's direct foreign-key tables), joined
against the indexed organisation columns rather than guardian's ``get_objects_for_user``, whose
``pk IN (…) OR pk IN (…)`` subqueries make PostgreSQL scan the whole referral table.
"""

from __future__ import annotations

import django_filters
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from common.errors import NotFound, ServiceError
from consent.models import Person
from partners.selectors import membership_active
from referrals.facts import ReferralFacts, Viewer, referral_facts
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
    return Referral.objects.filter(_side_filter(organisation.id, None)).filter(
        _grant_exists(user=user, organisation=organisation, codename=permission)
    )


def referral_get_visible(*, user: AbstractBaseUser, referral_id) -> Referral:
    try:
        return referral_list_visible(user=user).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("No such referral.", code="referral_not_found") from exc


# The one list every surface shows ------------------------------------------------------------

SENT, RECEIVED = "sent", "received"
ORDER = ("-created_at", "-id")  # newest first; equal times in a fixed order


class ReferralFilter(django_filters.FilterSet):
    """The filters of every referral list (REST, GraphQL, console), checked and applied here."""

    status = django_filters.ChoiceFilter(choices=Referral.Status.choices)
    urgency = django_filters.ChoiceFilter(choices=Referral.Urgency.choices)
    service = django_filters.UUIDFilter(field_name="to_service_id", help_text="The receiving service")
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="Past due-by and unanswered")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the reference")

    class Meta:
        model = Referral
        fields = ["status", "urgency", "service", "overdue", "search"]

    def filter_overdue(self, queryset, name, value):
        return queryset if value is None else queryset.filter(overdue_filter(value))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(reference__icontains=value) if value else queryset


def _side_filter(organisation_id, direction: str | None) -> Q:
    # one predicate per side: a one-sided list never asks for "to OR from"
    if direction == SENT:
        return Q(from_organisation_id=organisation_id)
    if direction == RECEIVED:
        return Q(to_organisation_id=organisation_id)
    if direction is None:
        return Q(to_organisation_id=organisation_id) | Q(from_organisation_id=organisation_id)
    raise ServiceError("One of: sent, received.", code="invalid", field="direction")


def _grant_exists(*, user, organisation, codename: str):
    perm = permission_id(codename)
    return Exists(
        ReferralGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"), group_id=organisation.group_id, permission_id=perm
        )
    ) | Exists(
        ReferralUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user_id=user.pk, permission_id=perm
        )
    )


def referral_list(
    *,
    user: AbstractBaseUser,
    direction: str | None = None,
    filters: dict | None = None,
    assigned_to_me: bool = False,
) -> QuerySet[Referral]:
    """Referrals the caller may see, on one side (``sent``/``received``) or both, filtered by
    :class:`ReferralFilter` and newest first. Each row carries what its facts need: the holding
    organisation and the caller's grants on it (evaluated for the rows of a page only)."""
    membership = membership_active(user=user)
    if membership is None:
        return Referral.objects.none()
    organisation = membership.organisation
    queryset = Referral.objects.filter(_side_filter(organisation.id, direction)).filter(
        _grant_exists(user=user, organisation=organisation, codename="view_referral")
    )
    if filters:
        filterset = ReferralFilter(data=filters, queryset=queryset)
        if not filterset.is_valid():
            field, messages = next(iter(filterset.errors.items()))
            raise ServiceError("; ".join(messages), code="invalid", field=field)
        queryset = filterset.qs
    if assigned_to_me:
        # a tombstone shows no assignee, so it is nobody's "assigned to me" either
        tombstone = Q(status=Referral.Status.WITHDRAWN) & ~Q(from_organisation_id=organisation.id)
        queryset = queryset.filter(assigned_to_id=user.pk).exclude(tombstone)
    holder = Person.objects.filter(pk=OuterRef("person_id")).values("organisation_id")[:1]
    return with_details(
        queryset.annotate(
            # subqueries, not joins: a COUNT drops them, a page evaluates them for its rows only
            holder_organisation_id=Subquery(holder),
            can_respond=_grant_exists(user=user, organisation=organisation, codename="respond_referral"),
            can_manage=_grant_exists(user=user, organisation=organisation, codename="manage_referral"),
        )
    ).order_by(*ORDER)


def referral_get(*, user: AbstractBaseUser, referral_id) -> Referral:
    """One referral through the list (with what its facts need); not visible → 404."""
    try:
        referral = referral_list(user=user).filter(pk=referral_id).first()
    except (ValueError, DjangoValidationError):
        referral = None
    if referral is None:
        raise NotFound("No such referral.", code="referral_not_found")
    return referral


def facts_for(*, user: AbstractBaseUser, referral: Referral) -> ReferralFacts:
    """The referral facts for this caller, from a row of :func:`referral_list` (no query), or,
    for a referral fetched otherwise, after looking its holder and grants up."""
    cached = getattr(referral, "_facts", None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    membership = membership_active(user=user)
    if not hasattr(referral, "can_respond"):
        row = referral_list(user=user).filter(pk=referral.pk).values(
            "holder_organisation_id", "can_respond", "can_manage"
        ).first() or {"holder_organisation_id": None, "can_respond": False, "can_manage": False}
        for name, value in row.items():
            setattr(referral, name, value)
    permissions = {"view_referral"}
    if referral.can_respond:
        permissions.add("respond_referral")
    if referral.can_manage:
        permissions.add("manage_referral")
    viewer = Viewer(
        user_id=user.pk,
        organisation_id=membership.organisation_id if membership else None,
        role=membership.role if membership else None,
        permissions=frozenset(permissions),
    )
    found = referral_facts(referral, viewer)
    referral._facts = (user.pk, found)
    return found


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
