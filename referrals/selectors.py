"""Reads of referrals, scoped to what the caller may see. REST and GraphQL both use these.

Visibility comes from the object grants (django-guardian's direct foreign-key tables), joined
against the indexed organisation columns rather than guardian's ``get_objects_for_user``, whose
``pk IN (…) OR pk IN (…)`` subqueries make PostgreSQL scan the whole referral table.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

import django_filters
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.errors import NotFound, ServiceError
from consent.models import Person
from partners.models import Membership
from partners.selectors import membership_active, membership_list_visible
from referrals.facts import ReferralFacts, Viewer, referral_facts
from referrals.models import (
    AccessLog,
    Referral,
    ReferralCount,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from referrals.transitions import ACTING_ROLES


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

SENT, RECEIVED = ReferralCount.SENT, ReferralCount.RECEIVED
VIEW, RESPOND, MANAGE = "view_referral", "respond_referral", "manage_referral"
ORDER = ("-created_at", "-id")  # newest first; equal times in a fixed order


class ReferralFilter(django_filters.FilterSet):
    """The filters of every referral list (REST, GraphQL, console), checked and applied here."""

    status = django_filters.ChoiceFilter(choices=Referral.Status.choices)
    urgency = django_filters.ChoiceFilter(choices=Referral.Urgency.choices)
    service = django_filters.UUIDFilter(field_name="to_service_id", help_text="The receiving service")
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="Past due-by and unanswered")
    search = django_filters.CharFilter(
        method="filter_search", help_text="The start of the reference, e.g. R-7K2 (the R- may be left out)"
    )

    class Meta:
        model = Referral
        fields = ["status", "urgency", "service", "overdue", "search"]

    def filter_overdue(self, queryset, name, value):
        return queryset if value is None else queryset.filter(overdue_filter(value))

    def filter_search(self, queryset, name, value):
        # the start of a reference, as read out on the phone ("r-7k2", "7K2"): a prefix the
        # reference index finds
        value = value.strip().upper()
        if not value:
            return queryset
        if not value.startswith("R-"):
            value = "R-" + value
        return queryset.filter(reference__startswith=value)


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
    """Whether the caller holds ``codename`` on the row: through their organisation's group, or in
    person — each an EXISTS probed per row through the grant table's index.

    Joined by OR, PostgreSQL may turn an EXISTS into ``id = ANY (every grant of the group)`` and
    hash the group's grants (165,000 at the largest organisation: 36 ms) before the first row of a
    50-row page, because it costs the hash against every row of the list rather than the page. The
    second, redundant correlation (``content_object_id >= outer id``) is not an equality, so that
    rewrite no longer applies and each row is one index probe."""
    perm = permission_id(codename)
    return Exists(
        ReferralGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            content_object_id__gte=OuterRef("pk"),
            group_id=organisation.group_id,
            permission_id=perm,
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
    organisation and the caller's grants on it (evaluated for the rows of a page only).

    For a page and its count use :func:`referral_listing`: the same rows, read the way that does
    not grow with the table."""
    listing = referral_listing(user=user, direction=direction, filters=filters, assigned_to_me=assigned_to_me)
    return listing.queryset()


def referral_listing(
    *,
    user: AbstractBaseUser,
    direction: str | None = None,
    filters: dict | None = None,
    assigned_to_me: bool = False,
) -> ReferralListing:
    """The list of :func:`referral_list`, with its page and count. Bad filters → ``invalid``."""
    _side_filter(None, direction)  # an unknown direction is refused before anything else
    filters = {name: value for name, value in (filters or {}).items() if value is not None}
    if filters:
        filterset = ReferralFilter(data=filters, queryset=Referral.objects.none())
        if not filterset.is_valid():
            field, messages = next(iter(filterset.errors.items()))
            raise ServiceError("; ".join(messages), code="invalid", field=field)
        filters = {
            name: value for name, value in filterset.form.cleaned_data.items() if value not in (None, "")
        }
    return ReferralListing(
        user=user,
        membership=membership_active(user=user),
        direction=direction,
        filters=filters,
        assigned_to_me=assigned_to_me,
    )


class ReferralListing:
    """One referral list: its rows for a page (keyset or offset) and its exact count.

    - A one-sided list reads one side's index, newest first, and stops after the page.
    - Both sides together are two such index-ordered reads merged (``UNION ALL`` of the newest rows
      of each side, then the page of the merge): never ``to = X OR from = X`` over the table.
    - The count adds up :class:`referrals.models.ReferralCount` for what the organisation's group
      sees (status, urgency and service are its keys) and counts the few referrals the caller
      holds in person; a filter the counters do not carry is counted through its own index
      (``overdue`` through the awaiting referrals, ``assigned_to_me`` through the assignee, the
      reference search through the reference prefix)."""

    def __init__(self, *, user, membership, direction, filters: dict, assigned_to_me: bool):
        self.user = user
        self.membership = membership
        self.organisation_id = membership.organisation_id if membership else None
        self.direction = direction
        self.filters = filters
        self.assigned_to_me = assigned_to_me

    # rows ----------------------------------------------------------------------------------

    def _visible(self, queryset: QuerySet[Referral], *, filters: dict | None = None) -> QuerySet[Referral]:
        """``queryset`` narrowed to what the caller may see and to the filters."""
        organisation = self.membership.organisation
        queryset = queryset.filter(_grant_exists(user=self.user, organisation=organisation, codename=VIEW))
        filters = self.filters if filters is None else filters
        if filters:
            queryset = ReferralFilter(data=filters, queryset=queryset).qs
        if self.assigned_to_me:
            # a tombstone shows no assignee, so it is nobody's "assigned to me" either
            tombstone = Q(status=Referral.Status.WITHDRAWN) & ~Q(from_organisation_id=self.organisation_id)
            queryset = queryset.filter(assigned_to_id=self.user.pk).exclude(tombstone)
        return queryset

    def _annotated(self, queryset: QuerySet[Referral]) -> QuerySet[Referral]:
        organisation = self.membership.organisation
        holder = Person.objects.filter(pk=OuterRef("person_id")).values("organisation_id")[:1]
        return with_details(
            queryset.annotate(
                # subqueries, not joins: a COUNT drops them, a page evaluates them for its rows only
                holder_organisation_id=Subquery(holder),
                can_respond=_grant_exists(user=self.user, organisation=organisation, codename=RESPOND),
                can_manage=_grant_exists(user=self.user, organisation=organisation, codename=MANAGE),
            )
        ).order_by(*ORDER)

    def queryset(self) -> QuerySet[Referral]:
        """Every row of the list, newest first (for a page, prefer :meth:`page`)."""
        if self.membership is None:
            return Referral.objects.none()
        side = Referral.objects.filter(_side_filter(self.organisation_id, self.direction))
        return self._annotated(self._visible(side))

    def page(self, *, first: int, after: Cursor | None = None, offset: int = 0, shape=None) -> list[Referral]:
        """Up to ``first + 1`` rows after ``after`` (a keyset cursor) or ``offset``: one more than
        the page, so the caller knows whether another follows. ``shape`` adds joins to the query."""
        if self.membership is None:
            return []
        stop = offset + first + 1
        if self.direction is not None:
            queryset = self.queryset()
            if after is not None:
                queryset = queryset.filter(after.before())
        else:
            parts = []
            for side in (RECEIVED, SENT):
                part = self._visible(Referral.objects.filter(self._one_side(side)))
                if after is not None:
                    part = part.filter(after.before())
                parts.append(part.order_by(*ORDER).values_list("pk", "created_at")[:stop])
            # the merge's ids first, then their rows by primary key: given the merge as a subquery,
            # PostgreSQL hash-joins it against the whole table rather than looking its rows up
            merged = parts[0].union(parts[1], all=True).order_by("-created_at", "-pk")[offset:stop]
            ids = [pk for pk, _created_at in merged]
            queryset = self._annotated(Referral.objects.filter(pk__in=ids))
            offset, stop = 0, len(ids)
        if shape is not None:
            queryset = shape(queryset)
        return list(queryset[offset:stop])

    def _one_side(self, side: str) -> Q:
        """The rows of one side, each referral once: one sent within the organisation is received."""
        if side == RECEIVED:
            return Q(to_organisation_id=self.organisation_id)
        return Q(from_organisation_id=self.organisation_id) & ~Q(to_organisation_id=self.organisation_id)

    @staticmethod
    def decode_cursor(text: str) -> Cursor:
        return Cursor.decode(text)

    @staticmethod
    def cursor_of(referral: Referral) -> str:
        return Cursor.of(referral).encode()

    # count ---------------------------------------------------------------------------------

    def count(self) -> int:
        """Exactly ``self.queryset().count()``, without counting the rows of a large list."""
        if self.membership is None:
            return 0
        if self.assigned_to_me or self.filters.get("search"):
            return self.queryset().count()  # a few rows, found by their own index
        overdue = self.filters.get("overdue")
        rest = {name: value for name, value in self.filters.items() if name != "overdue"}
        if overdue is None:
            return self._counted(rest)
        late = self._side_rows(filters={**rest, "overdue": True}).count()
        return late if overdue else self._counted(rest) - late

    def _side_rows(self, *, filters: dict) -> QuerySet[Referral]:
        return self._visible(
            Referral.objects.filter(_side_filter(self.organisation_id, self.direction)), filters=filters
        )

    def count_by_status(self) -> dict[str, int]:
        """``count()`` for each status at once (a status with none is left out): one statement,
        the counters' sums by status and what the caller holds in person, by status."""
        if self.membership is None:
            return {}
        if self.assigned_to_me or {"search", "overdue", "status"} & set(self.filters):
            rows = self.queryset().order_by().values("status").annotate(n=Count("pk"))
            rows = rows.values_list("status", "n")
        else:
            by_counter = (
                self._counters(self.filters).order_by().values("status").annotate(n=Sum("count"))
            ).values_list("status", "n")
            in_person = self._in_person(self.filters).order_by().values("status").annotate(n=Count("pk"))
            rows = by_counter.union(in_person.values_list("status", "n"), all=True)
        counts: dict[str, int] = {}
        for status, n in rows:
            counts[status] = counts.get(status, 0) + int(n)
        return {status: n for status, n in counts.items() if n}

    def _counters(self, filters: dict) -> QuerySet[ReferralCount]:
        counters = ReferralCount.objects.filter(organisation_id=self.organisation_id)
        if self.direction is None:
            counters = counters.filter(Q(side=RECEIVED) | Q(side=SENT, internal=False))
        else:
            counters = counters.filter(side=self.direction)
        keys = {"status": "status", "urgency": "urgency", "service": "service_id"}
        return counters.filter(**{keys[name]: value for name, value in filters.items()})

    def _in_person(self, filters: dict) -> QuerySet[Referral]:
        """What the caller holds in person and the group does not see: restricted and PSEA referrals."""
        group_sees = Exists(
            ReferralGroupObjectPermission.objects.filter(
                content_object=OuterRef("pk"),
                group_id=self.membership.organisation.group_id,
                permission_id=permission_id(VIEW),
            )
        )
        held = ReferralUserObjectPermission.objects.filter(
            user_id=self.user.pk, permission_id=permission_id(VIEW)
        ).values("content_object_id")
        in_person = Referral.objects.filter(
            _side_filter(self.organisation_id, self.direction), pk__in=held
        ).exclude(group_sees)
        if filters:
            in_person = ReferralFilter(data=filters, queryset=in_person).qs
        return in_person

    def _counted(self, filters: dict) -> int:
        counters = self._counters(filters)
        in_person = self._in_person(filters)
        held_count = in_person.order_by().values(one=Value(1)).annotate(n=Count("pk")).values("n")
        # one statement: the counters' sum and the count of what is held in person
        total = counters.aggregate(total=Coalesce(Sum("count"), 0) + Coalesce(Subquery(held_count), 0))[
            "total"
        ]
        return int(total)


@dataclass(frozen=True)
class TabCounts:
    """How many referrals each tab of a list holds: per status, overdue, assigned to the caller."""

    by_status: dict[str, int]
    overdue: int
    assigned_to_me: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def referral_tab_counts(
    *, user: AbstractBaseUser, direction: str | None = None, filters: dict | None = None
) -> TabCounts:
    """The counts of :func:`referral_listing`'s tabs under ``filters`` (e.g. an urgency): exactly the
    ``count()`` of the listing each tab shows, in three statements whatever the table holds (the
    counters by status, the overdue referrals through their index, the caller's own)."""
    filters = {name: value for name, value in (filters or {}).items() if value is not None}
    listing = referral_listing(user=user, direction=direction, filters=filters)
    overdue = referral_listing(user=user, direction=direction, filters={**filters, "overdue": True})
    mine = referral_listing(user=user, direction=direction, filters=filters, assigned_to_me=True)
    return TabCounts(
        by_status=listing.count_by_status(), overdue=overdue.count(), assigned_to_me=mine.count()
    )


def referral_assignable_members(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    """The active focal point and caseworkers of the caller's organisation: whom a referral may be
    assigned to (GraphQL's ``assignableCaseworkers``; the service checks the choice again)."""
    membership = membership_active(user=user)
    if membership is None:
        return Membership.objects.none()
    return (
        membership_list_visible(user=user)
        .filter(organisation_id=membership.organisation_id, is_active=True, role__in=ACTING_ROLES)
        .order_by("user__last_name", "user__first_name", "user__username")
    )


# Keyset cursors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in a referral list (newest first): the last row's creation time and id."""

    created_at: datetime
    id: uuid.UUID

    @classmethod
    def of(cls, referral: Referral) -> Cursor:
        return cls(created_at=referral.created_at, id=referral.pk)

    def encode(self) -> str:
        raw = f"r1|{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            version, created_at, pk = raw.split("|")
            parsed = datetime.fromisoformat(created_at)
            if version != "r1" or parsed.tzinfo is None:
                raise ValueError(version)
            return cls(created_at=parsed, id=uuid.UUID(pk))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            message = f"`{field}` is not a valid cursor."
            raise ServiceError(message, code="invalid_cursor", field=field) from exc

    def before(self) -> Q:
        """The rows after this one in the list's order (``-created_at, -id``), as the index reads them."""
        return Q(created_at__lte=self.created_at) & (Q(created_at__lt=self.created_at) | Q(id__lt=self.id))


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
