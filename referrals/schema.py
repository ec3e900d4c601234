"""GraphQL for referrals: the inbox, the sent list, one referral, and the responses.

Thin adapters: visibility comes from ``referrals.selectors`` (the same selector as REST), every
write is a call to ``referrals.services``. What a list shows costs a fixed number of queries:
the page is fetched with its foreign keys joined, and the first row that needs its events or its
``viewerCan`` flags loads them for the whole page at once (one prefetch, one permission checker per
request). Reading a payload is recorded in the access log with one bulk insert per request.
"""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from graphene import relay
from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType
from graphql import GraphQLError
from graphql_relay import to_global_id

from common.connections import (
    CountedConnection,
    PageArguments,
    check_page_size,
    connection_from_rows,
    mark_page,
    page_of,
)
from common.errors import ServiceError
from common.graphql import ServiceMutation
from common.graphql_ids import decode_global_id
from common.replicas import replica_safe
from partners.models import Membership
from partners.schema import OrganisationType, ServiceType
from partners.selectors import membership_active, membership_list_visible, service_list_visible
from partners.vocabulary import DISCLOSURE_FIELDS
from pathways.models import PathwayLink
from pathways.schema import PathwayStepType, PathwayType
from referrals import services, transitions
from referrals.models import Referral, ReferralEvent
from referrals.selectors import (
    Cursor,
    facts_for,
    referral_list,
    referral_list_visible,
    referral_listing,
    with_details,
)

ReferralStatusEnum = graphene.Enum.from_enum(Referral.Status, name="ReferralStatus")
ReferralUrgencyEnum = graphene.Enum.from_enum(Referral.Urgency, name="ReferralUrgency")
ReferralSourceEnum = graphene.Enum.from_enum(Referral.Source, name="ReferralSource")
ReferralOutcomeEnum = graphene.Enum.from_enum(Referral.Outcome, name="ReferralOutcome")
ReferralEventKindEnum = graphene.Enum.from_enum(ReferralEvent.Kind, name="ReferralEventKind")


# Request-scoped helpers ------------------------------------------------------------------------


def _user(info):
    return info.context.user


def _membership(info) -> Membership | None:
    return membership_active(user=_user(info))  # cached on the user: one query per request


def _page(referral: Referral) -> list[Referral]:
    """The rows fetched together with ``referral``: what the first lazy load covers."""
    return page_of(referral)


def _joined(row, name: str):
    """The related object joined onto ``row`` by select_related, or None (never a query)."""
    return row._state.fields_cache.get(name)


def _mark_page(rows: list[Referral]) -> list[Referral]:
    """Mark the rows, and the services and pathways joined onto them, as pages of their own: the
    first that needs locations, steps or links loads them for all (one query each, when asked)."""
    mark_page(rows)
    services = [
        service for row in rows for service in (_joined(row, "to_service"), _joined(row, "from_service"))
    ]
    for row in rows:
        link = _joined(row, "pathway_link")
        step = link._state.fields_cache.get("to_step") if link is not None else None
        services.append(step._state.fields_cache.get("service") if step is not None else None)
    mark_page([service for service in services if service is not None])
    mark_page([pathway for pathway in (_joined(row, "pathway") for row in rows) if pathway is not None])
    return rows


# What each field of a referral needs joined: a list joins only what its query asks for.
_JOINS = {
    "senderOrganisation": ("from_organisation",),
    "receiverOrganisation": ("to_organisation",),
    "senderService": ("from_service__organisation", "from_service__category"),
    "service": ("to_service__category", "to_service__organisation"),
    "pathway": ("pathway__operation",),
    "pathwayStep": (
        "pathway_link__to_step__service__organisation",
        "pathway_link__to_step__service__category",
    ),
    "assignedTo": ("assigned_to",),
}


def _selected_node_fields(info) -> set[str] | None:
    """The fields asked of each ``edges { node { … } }`` of this connection field (fragments
    followed), or None when the query's shape is not one this understands."""

    def fields(selection_set) -> list:
        found = []
        for selection in selection_set.selections if selection_set else ():
            kind = selection.kind
            if kind == "field":
                found.append(selection)
            elif kind == "inline_fragment":
                found += fields(selection.selection_set)
            elif kind == "fragment_spread":
                fragment = info.fragments.get(selection.name.value)
                if fragment is None:
                    return []
                found += fields(fragment.selection_set)
        return found

    names: set[str] = set()
    for field_node in info.field_nodes:
        for edges in fields(field_node.selection_set):
            if edges.name.value != "edges":
                continue
            for node in fields(edges.selection_set):
                if node.name.value == "node":
                    names |= {field.name.value for field in fields(node.selection_set)}
    return names


def _shaped_for(info):
    """``_shaped``, narrowed to the joins the query's fields need."""
    names = _selected_node_fields(info)
    if names is None:
        return _shaped
    joins = [path for name in sorted(names) for path in _JOINS.get(name, ())]

    def shape(queryset):
        queryset = queryset.select_related(None)
        return queryset.select_related(*joins) if joins else queryset

    return shape


def _events(info, referral: Referral) -> list[ReferralEvent]:
    events = _page_events(referral)
    show_notes = _facts(info, referral).event_notes
    for event in events:
        event._show_note = show_notes
    return events


def _page_events(referral: Referral) -> list[ReferralEvent]:
    if not hasattr(referral, "_graphql_events"):
        prefetch_related_objects(
            [row for row in _page(referral) if not hasattr(row, "_graphql_events")],
            Prefetch(
                "events",
                queryset=ReferralEvent.objects.select_related("organisation", "actor").order_by("at", "id"),
                to_attr="_graphql_events",
            ),
        )
    return referral._graphql_events


def _page_last_events(referral: Referral) -> dict:
    """The newest event of every row of the page, in one query (DISTINCT ON the referral): an
    inbox shows one event per row and need not load the rest."""
    if not hasattr(referral, "_graphql_last_events"):
        page = _page(referral)
        last = {
            event.referral_id: event
            for event in ReferralEvent.objects.filter(referral_id__in=[row.pk for row in page])
            .select_related("organisation", "actor")
            .order_by("referral_id", "-at", "-id")
            .distinct("referral_id")
        }
        for row in page:
            row._graphql_last_events = last
    return referral._graphql_last_events


def _assignee_membership(referral: Referral) -> Membership | None:
    """The assignee's membership of the receiving organisation (the active one if several), loaded
    for the whole page by the first row that asks: its UUID is the caseworker's public id."""
    if not hasattr(referral, "_graphql_assignee"):
        page = [row for row in _page(referral) if not hasattr(row, "_graphql_assignee")]
        assigned = [row for row in page if row.assigned_to_id is not None]
        found = {}
        if assigned:
            memberships = Membership.objects.filter(
                user_id__in={row.assigned_to_id for row in assigned},
                organisation_id__in={row.to_organisation_id for row in assigned},
            ).order_by("is_active", "created_at")  # the active one, else the latest, comes last and wins
            found = {(m.user_id, m.organisation_id): m for m in memberships}
        for row in page:
            row._graphql_assignee = found.get((row.assigned_to_id, row.to_organisation_id))
    return referral._graphql_assignee


def _facts(info, referral: Referral):
    return facts_for(user=_user(info), referral=referral)


def _record_payload_read(info, referral: Referral) -> None:
    """Collect payload reads; the GraphQL view flushes them in one insert at the end of the request."""
    request = info.context
    reads = getattr(request, "_referral_payload_reads", None)
    on_complete = getattr(request, "graphql_on_complete", None)
    if on_complete is None:  # executed outside the view: log at once rather than never
        services.payload_read(user=request.user, referrals=[referral], api="graphql")
        return
    if reads is None:
        reads = request._referral_payload_reads = {}
        on_complete.append(
            lambda: services.payload_read(user=request.user, referrals=list(reads.values()), api="graphql")
        )
    reads.setdefault(referral.pk, referral)


def _shaped(queryset):
    """The joins every referral answer needs: sides, services, pathway and step (with its service),
    assignee. Locations of the services and the pathway's steps and links load per page, on need."""
    return with_details(queryset).select_related(
        "from_service__organisation",
        "from_service__category",
        "to_service__organisation",
        "pathway__operation",
        "pathway_link__to_step__service__organisation",
        "pathway_link__to_step__service__category",
    )


# Types -------------------------------------------------------------------------------------------


class ReferralPayloadType(graphene.ObjectType):
    class Meta:
        name = "ReferralPayload"
        description = (
            "The minimal data shared with the receiving service. Only the fields named in "
            "`sharedFields` carry a value; every other field is null."
        )

    given_name = graphene.String()
    family_name = graphene.String()
    phone = graphene.String()
    best_time_to_call = graphene.String()
    preferred_language = graphene.String()
    preferred_channel = graphene.String()
    sex = graphene.String()
    age_band = graphene.String()
    date_of_birth = graphene.String(description="ISO 8601 date")
    location = graphene.String()
    registration_number = graphene.String()
    household_size = graphene.Int()
    specific_needs = graphene.List(graphene.NonNull(graphene.String))
    protection_concerns = graphene.String()
    narrative = graphene.String(description="The referrer's note, when the consent covers the narrative")


assert set(ReferralPayloadType._meta.fields) == set(DISCLOSURE_FIELDS), (
    "payload type out of step with vocabulary"
)


class CaseworkerType(graphene.ObjectType):
    class Meta:
        name = "Caseworker"
        description = "A member of your organisation who can be assigned referrals."

    id = graphene.ID(
        required=True,
        description="Global id of the membership (a UUID, never the user's number); pass it to "
        "`assignReferral(caseworker:)`",
    )
    username = graphene.String(required=True)
    first_name = graphene.String(required=True)
    last_name = graphene.String(required=True)

    @staticmethod
    def from_membership(membership: Membership, user=None) -> CaseworkerType:
        user = user or membership.user
        return CaseworkerType(
            id=to_global_id("Caseworker", str(membership.pk)),
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
        )


class ViewerCanType(graphene.ObjectType):
    class Meta:
        name = "ReferralViewerCan"
        description = "What the caller may do with this referral now (the mutations agree)."

    acknowledge = graphene.Boolean(required=True)
    accept = graphene.Boolean(required=True)
    decline = graphene.Boolean(required=True)
    complete = graphene.Boolean(required=True)
    refer_onward = graphene.Boolean(required=True)
    assign = graphene.Boolean(required=True)
    withdraw = graphene.Boolean(required=True)
    close = graphene.Boolean(required=True)


class ReferralEventType(DjangoObjectType):
    kind = ReferralEventKindEnum(required=True)
    from_status = graphene.String(description="Empty for events that change no state")
    to_status = graphene.String()
    reason_code = graphene.String(description="Decline/withdraw reason, outcome, or the onward reference")
    note = graphene.String()
    organisation = graphene.Field(OrganisationType, description="The organisation that acted")
    actor_name = graphene.String(description="Who acted; null for automatic events (escalation)")

    class Meta:
        model = ReferralEvent
        name = "ReferralEvent"
        interfaces = (relay.Node,)
        fields = ("id", "at")

    @classmethod
    def get_node(cls, info, id):
        return (
            ReferralEvent.objects.select_related("organisation", "actor")
            .filter(pk=id, referral__in=referral_list_visible(user=_user(info)).values("pk"))
            .first()
        )

    def resolve_kind(self, info):
        return self.kind

    def resolve_from_status(self, info):
        return self.from_status or None

    def resolve_to_status(self, info):
        return self.to_status or None

    def resolve_reason_code(self, info):
        return self.reason_code or None

    def resolve_note(self, info):
        show = getattr(self, "_show_note", None)
        if show is None:  # fetched alone (node lookup): ask its referral's facts
            show = facts_for(user=_user(info), referral=self.referral).event_notes
        return (self.note or None) if show else None

    def resolve_organisation(self, info):
        return self.organisation

    def resolve_actor_name(self, info):
        if self.actor is None:
            return None
        return self.actor.get_full_name() or self.actor.username


class ReferralType(DjangoObjectType):
    status = ReferralStatusEnum(required=True)
    urgency = ReferralUrgencyEnum(required=True)
    source = ReferralSourceEnum(required=True)
    overdue = graphene.Boolean(required=True, description="Awaiting an answer past its due date")
    shared_fields = graphene.List(graphene.NonNull(graphene.String), required=True)
    payload = graphene.Field(
        ReferralPayloadType, description="Null once erased (consent withdrawn). Reading it is logged."
    )
    payload_erased = graphene.Boolean(required=True)
    has_note = graphene.Boolean(required=True, description="The referrer wrote a note (shared or not)")
    reason_note = graphene.String(description="The referrer's note: only the referring organisation sees it")
    outcome = ReferralOutcomeEnum()
    outcome_note = graphene.String()
    sender_organisation = graphene.Field(OrganisationType, required=True)
    sender_service = graphene.Field(ServiceType, description="Null when the person came through intake")
    service = graphene.Field(ServiceType, required=True, description="The service referred to")
    receiver_organisation = graphene.Field(OrganisationType, required=True)
    pathway = graphene.Field(PathwayType, description="The pathway version followed, if any")
    pathway_step = graphene.Field(
        PathwayStepType, description="The step of the pathway this referral reached"
    )
    assigned_to = graphene.Field(CaseworkerType, description="The assigned caseworker (receiving side only)")
    events = graphene.List(graphene.NonNull(ReferralEventType), required=True)
    last_event = graphene.Field(ReferralEventType)
    viewer_can = graphene.Field(ViewerCanType, required=True)

    class Meta:
        model = Referral
        name = "Referral"
        interfaces = (relay.Node,)
        fields = (
            "id",
            "reference",
            "due_by",
            "escalated_at",
            "escalation_level",
            "outcome_due_by",
            "restricted",
            "pathway_version",
            "created_at",
        )

    @classmethod
    def get_node(cls, info, id):
        referral = _shaped(referral_list(user=_user(info))).filter(pk=id).first()
        return _mark_page([referral])[0] if referral else None

    def resolve_status(self, info):
        return self.status

    def resolve_urgency(self, info):
        return self.urgency

    def resolve_source(self, info):
        return self.source

    def resolve_overdue(self, info):
        return self.is_overdue

    def resolve_shared_fields(self, info):
        return list(_facts(info, self).shared_fields)

    def resolve_payload(self, info):
        payload = _facts(info, self).payload
        if payload is None:
            return None
        _record_payload_read(info, self)
        return ReferralPayloadType(
            **{name: payload.get(name) for name in self.shared_fields if name in DISCLOSURE_FIELDS}
        )

    def resolve_payload_erased(self, info):
        return _facts(info, self).payload_erased

    def resolve_has_note(self, info):
        return _facts(info, self).has_note

    def resolve_reason_note(self, info):
        return _facts(info, self).reason_note

    def resolve_outcome(self, info):
        return self.outcome or None

    def resolve_outcome_note(self, info):
        return _facts(info, self).outcome_note

    def resolve_sender_organisation(self, info):
        return self.from_organisation

    def resolve_sender_service(self, info):
        return self.from_service

    def resolve_service(self, info):
        return self.to_service

    def resolve_receiver_organisation(self, info):
        return self.to_organisation

    def resolve_pathway(self, info):
        return self.pathway

    def resolve_pathway_step(self, info):
        return self.pathway_link.to_step if self.pathway_link_id else None

    def resolve_assigned_to(self, info):
        if _facts(info, self).assigned_to_id is None:
            return None
        assignee = _assignee_membership(self)
        return CaseworkerType.from_membership(assignee, user=self.assigned_to) if assignee else None

    def resolve_events(self, info):
        return _events(info, self)

    def resolve_last_event(self, info):
        if hasattr(self, "_graphql_events"):  # the page's events are loaded already
            events = _events(info, self)
            return events[-1] if events else None
        event = _page_last_events(self).get(self.pk)
        if event is not None:
            event._show_note = _facts(info, self).event_notes
        return event

    def resolve_viewer_can(self, info):
        allowed = _facts(info, self).allowed_actions
        return ViewerCanType(**{action: action in allowed for action in transitions.ACTIONS})


class ReferralConnection(CountedConnection):
    class Meta:
        node = ReferralType


# Queries -----------------------------------------------------------------------------------------


class ReferralFilters:
    """The arguments of both lists; the filter set itself is ``referrals.selectors.ReferralFilter``."""

    status = ReferralStatusEnum()
    urgency = ReferralUrgencyEnum()
    service = graphene.ID(description="Only referrals to this service (a `Service.id`)")
    overdue = graphene.Boolean(description="true: awaiting an answer past the due date; false: all others")
    assigned_to_me = graphene.Boolean(description="Only referrals assigned to the caller")
    search = graphene.String(description="Start of the reference, any case: `R-7K2`, `7k2`")


def _list_filters(*, status=None, urgency=None, service=None, overdue=None, search=None) -> dict:
    filters = {
        "status": getattr(status, "value", status),
        "urgency": getattr(urgency, "value", urgency),
        "overdue": overdue,
        "search": search,
    }
    if service is not None:
        raw = decode_global_id(service, "Service")
        if raw is None:
            raise GraphQLError(
                "`service` is not a Service id.", extensions={"code": "invalid", "field": "service"}
            )
        filters["service"] = raw
    return {name: value for name, value in filters.items() if value is not None}


def _referral_page(info, *, side: str, first: int, after=None, assigned_to_me=None, **filters):
    check_page_size(first)
    try:
        listing = referral_listing(
            user=_user(info),
            direction=side,
            filters=_list_filters(**filters),
            assigned_to_me=bool(assigned_to_me),
        )
        cursor = None if after is None else Cursor.decode(after)
    except ServiceError as exc:
        raise GraphQLError(
            exc.message, extensions={"code": exc.code, "field": to_camel_case(exc.field or "")}
        ) from exc
    rows = listing.page(first=first, after=cursor, shape=_shaped_for(info))
    _mark_page(rows[:first])
    return connection_from_rows(
        ReferralConnection,
        rows,
        first=first,
        cursors=[Cursor.of(row).encode() for row in rows[:first]],
        has_previous=cursor is not None,
        count=listing.count,
    )


def _list_field(description: str) -> graphene.Field:
    return graphene.Field(
        ReferralConnection,
        required=True,
        first=PageArguments.first,
        after=PageArguments.after,
        status=ReferralFilters.status,
        urgency=ReferralFilters.urgency,
        service=ReferralFilters.service,
        overdue=ReferralFilters.overdue,
        assigned_to_me=ReferralFilters.assigned_to_me,
        search=ReferralFilters.search,
        description=description,
    )


class ReferralQueries(graphene.ObjectType):
    referral_inbox = _list_field("Referrals your organisation received and you may see, newest first")
    sent_referrals = _list_field("Referrals your organisation sent, newest first")
    referral = graphene.Field(ReferralType, id=graphene.ID(required=True), description="Null if not yours")
    assignable_caseworkers = graphene.List(
        graphene.NonNull(CaseworkerType),
        required=True,
        description="Active focal point and caseworkers of your organisation",
    )

    @replica_safe
    def resolve_referral_inbox(self, info, first, after=None, **filters):
        return _referral_page(info, side="received", first=first, after=after, **filters)

    @replica_safe
    def resolve_sent_referrals(self, info, first, after=None, **filters):
        return _referral_page(info, side="sent", first=first, after=after, **filters)

    def resolve_referral(self, info, id):
        raw = decode_global_id(id, "Referral")
        if raw is None:
            return None
        try:
            return ReferralType.get_node(info, raw)
        except (ValueError, DjangoValidationError):
            return None

    def resolve_assignable_caseworkers(self, info):
        membership = _membership(info)
        if membership is None:
            return []
        members = (
            membership_list_visible(user=_user(info))
            .filter(
                organisation_id=membership.organisation_id, is_active=True, role__in=transitions.ACTING_ROLES
            )
            .order_by("user__last_name", "user__first_name", "user__username")
        )
        return [CaseworkerType.from_membership(member) for member in members]


# Mutations ---------------------------------------------------------------------------------------


def _visible_referral(info, global_id: str) -> Referral:
    """Decode and fetch through the selector: another organisation's id is simply not found."""
    return ServiceMutation.node_or_error(
        global_id,
        "Referral",
        lambda raw: referral_list_visible(user=_user(info)).filter(pk=raw).first(),
        code="referral_not_found",
    )


def _reloaded(info, referral: Referral | None) -> Referral | None:
    """The referral as the caller sees it after the change (null if it is no longer visible),
    fetched again so its facts see the new state and grants."""
    if referral is None:
        return None
    return ReferralType.get_node(info, referral.pk)


class ReferralMutation(ServiceMutation):
    """Shape shared by every referral mutation: the referral afterwards, and typed errors."""

    class Meta:
        abstract = True

    referral = graphene.Field(ReferralType, description="The referral after the change; null on error")

    @classmethod
    def respond(cls, info, change, **extra):
        result, errors = cls.perform(info, change)
        if errors:
            return cls(referral=None, errors=errors, **{key: None for key in extra})
        referral = result[0] if isinstance(result, tuple) else result
        values = {key: _reloaded(info, getter(result)) for key, getter in extra.items()}
        return cls(referral=_reloaded(info, referral), errors=[], **values)


def _transition(action: str):
    def mutate(cls, root, info, id, reason=None, note=None, outcome=None):
        def change():
            return services.referral_transition(
                actor=_user(info),
                referral=_visible_referral(info, id),
                action=action,
                reason_code=reason or "",
                note=note or "",
                outcome=getattr(outcome, "value", outcome) or "",
            )

        return cls.respond(info, change)

    return classmethod(mutate)


class AcknowledgeReferral(ReferralMutation):
    """Receiving side: we have seen it (sent → acknowledged)."""

    class Arguments:
        id = graphene.ID(required=True)

    mutate = _transition("acknowledge")


class AcceptReferral(ReferralMutation):
    """Receiving side: we take the person on (sent/acknowledged → accepted)."""

    class Arguments:
        id = graphene.ID(required=True)

    mutate = _transition("accept")


class DeclineReferral(ReferralMutation):
    """Receiving side: we cannot take it (sent/acknowledged → declined); a reason is required."""

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(
            description=f"One of: {', '.join(transitions.DECLINE_REASONS)} (`other` needs a note)"
        )
        note = graphene.String()

    mutate = _transition("decline")


class CompleteReferral(ReferralMutation):
    """Receiving side: record the outcome (accepted → completed); the referrer sees it."""

    class Arguments:
        id = graphene.ID(required=True)
        outcome = ReferralOutcomeEnum()
        note = graphene.String()

    mutate = _transition("complete")


class WithdrawReferral(ReferralMutation):
    """Referring side: cancel an open referral; the receiving side loses access."""

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(
            description=f"One of: {', '.join(transitions.WITHDRAW_REASONS)} (`other` needs a note)"
        )
        note = graphene.String()

    mutate = _transition("withdraw")


class CloseReferral(ReferralMutation):
    """Referring side: close the loop on a completed referral."""

    class Arguments:
        id = graphene.ID(required=True)

    mutate = _transition("close")


def _caseworker_user(info, global_id: str):
    """The user behind a ``Caseworker.id`` (a membership's UUID). An id that is malformed, of another
    organisation or of an inactive membership gives None, which the service refuses as
    ``invalid_assignee`` after its own checks (visibility, side, role, state) have run."""
    raw = decode_global_id(global_id, "Caseworker")
    if raw is None:
        return None
    try:
        membership = membership_list_visible(user=_user(info)).filter(pk=raw, is_active=True).first()
    except (ValueError, DjangoValidationError):  # not a UUID, e.g. a user's number from an old client
        return None
    return membership.user if membership else None


class AssignReferral(ReferralMutation):
    """Receiving focal point: give the referral to one caseworker, optionally only to them."""

    class Arguments:
        id = graphene.ID(required=True)
        caseworker = graphene.ID(required=True, description="A `Caseworker.id` from `assignableCaseworkers`")
        restrict = graphene.Boolean(default_value=False, description="Hide it from everyone else")

    @classmethod
    def mutate(cls, root, info, id, caseworker, restrict=False):
        def change():
            referral = _visible_referral(info, id)
            return services.referral_assign(
                actor=_user(info),
                referral=referral,
                caseworker=_caseworker_user(info, caseworker),
                restrict=restrict,
            )

        return cls.respond(info, change)


class ReferOnward(ReferralMutation):
    """Receiving side: from an accepted referral, refer the person on to another service."""

    class Arguments:
        id = graphene.ID(required=True, description="The accepted referral")
        to_service = graphene.ID(required=True)
        idempotency_key = graphene.String(required=True, description="Repeat it to retry safely")
        urgency = ReferralUrgencyEnum(description="Defaults to the referral's urgency")
        reason_note = graphene.String()
        optional_fields = graphene.List(graphene.NonNull(graphene.String))
        pathway_link = graphene.ID(description="The PathwayLink followed, from `nextSteps`")

    onward_referral = graphene.Field(ReferralType, description="The new referral; null on error")

    @classmethod
    def mutate(cls, root, info, id, to_service, idempotency_key, **arguments):
        def change():
            referral = _visible_referral(info, id)
            service = cls.node_or_error(
                to_service,
                "Service",
                lambda raw: service_list_visible(user=_user(info)).filter(pk=raw).first(),
                code="service_not_found",
                field="to_service",
            )
            link = None
            if arguments.get("pathway_link"):
                link = cls.node_or_error(
                    arguments["pathway_link"],
                    "PathwayLink",
                    lambda raw: PathwayLink.objects.filter(pk=raw).first(),
                    code="pathway_link_not_found",
                    field="pathway_link",
                    message="No such pathway link.",
                )
            urgency = arguments.get("urgency")
            child = services.referral_refer_onward(
                actor=_user(info),
                referral=referral,
                to_service=service,
                idempotency_key=idempotency_key,
                urgency=getattr(urgency, "value", urgency),
                reason_note=arguments.get("reason_note") or "",
                optional_fields=arguments.get("optional_fields") or (),
                pathway_link=link,
            )
            return referral, child

        return cls.respond(info, change, onward_referral=lambda result: result[1])


class ReferralMutations(graphene.ObjectType):
    acknowledge_referral = AcknowledgeReferral.Field()
    accept_referral = AcceptReferral.Field()
    decline_referral = DeclineReferral.Field()
    complete_referral = CompleteReferral.Field()
    refer_onward = ReferOnward.Field()
    assign_referral = AssignReferral.Field()
    withdraw_referral = WithdrawReferral.Field()
    close_referral = CloseReferral.Field()
