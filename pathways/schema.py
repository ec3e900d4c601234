"""GraphQL (read only) for pathways: ``pathways``, ``pathway``, ``nextSteps``, ``alternatives``.

Visibility comes from ``pathways.selectors``: partners see published versions only; a draft's id
resolves to null exactly like an id that does not exist.
"""

import graphene
from django.core.exceptions import ValidationError as DjangoValidationError
from graphene import relay
from graphene_django import DjangoObjectType
from graphene_django.utils import bypass_get_queryset
from graphql import GraphQLError
from graphql_relay import to_global_id

from common.connections import (
    CountedConnection,
    PageArguments,
    connection_from_queryset,
    mark_page,
    page_of,
    prefetch_for_page,
)
from common.errors import NotFound, ServiceError
from common.graphql_ids import decode_global_id, require_global_id
from partners.schema import ServiceType
from partners.selectors import service_list_visible
from pathways.conditions import describe
from pathways.models import Pathway, PathwayLink, PathwayStep
from pathways.selectors import (
    links_prefetch,
    pathway_alternatives,
    pathway_get_visible,
    pathway_list_visible,
    pathway_next_steps,
    steps_prefetch,
    with_steps_and_links,
)

PathwayThemeEnum = graphene.Enum.from_enum(Pathway.Theme, name="PathwayTheme")
PathwayStatusEnum = graphene.Enum.from_enum(Pathway.Status, name="PathwayStatus")


class PathwayStepType(DjangoObjectType):
    class Meta:
        model = PathwayStep
        name = "PathwayStep"
        interfaces = (relay.Node,)
        fields = ("id", "key", "service", "is_entry", "x", "y")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(pathway__in=pathway_list_visible(user=info.context.user))


class PathwayLinkType(DjangoObjectType):
    condition = graphene.JSONString(required=True, description="The eligibility rule (docs/pathways.md)")
    eligibility = graphene.String(required=True, description="The rule in words")

    class Meta:
        model = PathwayLink
        name = "PathwayLink"
        interfaces = (relay.Node,)
        fields = ("id", "key", "from_step", "to_step", "preference", "note")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(pathway__in=pathway_list_visible(user=info.context.user))

    # the link came from a pathway the caller may see, and so do its steps: no per-link re-check query
    @bypass_get_queryset
    def resolve_from_step(self, info):
        return self.from_step

    @bypass_get_queryset
    def resolve_to_step(self, info):
        return self.to_step

    def resolve_condition(self, info):
        return self.condition or {}

    def resolve_eligibility(self, info):
        return describe(self.condition)


class PathwayType(DjangoObjectType):
    theme = PathwayThemeEnum(required=True)
    status = PathwayStatusEnum(required=True)
    operation_name = graphene.String(required=True)
    steps = graphene.List(graphene.NonNull(PathwayStepType), required=True)
    links = graphene.List(graphene.NonNull(PathwayLinkType), required=True)

    class Meta:
        model = Pathway
        name = "Pathway"
        interfaces = (relay.Node,)
        fields = ("id", "name", "description", "version", "published_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        # the list resolver shapes its own queryset; this only adds the visibility filter (node lookups)
        return queryset.filter(pk__in=pathway_list_visible(user=info.context.user).values("pk"))

    def resolve_operation_name(self, info):
        return self.operation.name

    # lists prefetch both; a pathway reached from a page of referrals loads them for the page at once
    @bypass_get_queryset
    def resolve_steps(self, info):
        prefetch_for_page(self, steps_prefetch())
        steps = list(self.steps.all())
        # the services of every step on this page of pathways load their locations together
        mark_page([step.service for pathway in page_of(self) for step in pathway.steps.all()])
        return steps

    @bypass_get_queryset
    def resolve_links(self, info):
        prefetch_for_page(self, links_prefetch())
        return self.links.all()


class PathwayConnection(CountedConnection):
    class Meta:
        node = PathwayType


class PathwayOfferType(graphene.ObjectType):
    class Meta:
        name = "PathwayOffer"
        description = "A service offered to the person and the pathway link a referral would follow."

    service = graphene.Field(ServiceType, required=True)
    pathway = graphene.Field(PathwayType, required=True)
    link_id = graphene.ID(description="Global id of the PathwayLink; null for an entry step reached directly")
    preference = graphene.Int()
    distance = graphene.Int(description="Hops from the service asked about")
    note = graphene.String(required=True)

    def resolve_link_id(self, info):
        return to_global_id("PathwayLink", self.link_id) if self.link_id else None


class EligibilityProfileInput(graphene.InputObjectType):
    class Meta:
        name = "EligibilityProfileInput"

    age = graphene.Int()
    sex = graphene.String(description="female, male or other")
    specific_needs = graphene.List(graphene.NonNull(graphene.String))
    urgency = graphene.String(description="emergency, urgent or normal")
    is_minor = graphene.Boolean()


def _profile(profile) -> dict:
    return {key: value for key, value in dict(profile or {}).items() if value is not None}


def _service(info, global_id):
    try:
        service = (
            service_list_visible(user=info.context.user)
            .filter(pk=require_global_id(global_id, "Service"))
            .first()
        )
    except (ValueError, DjangoValidationError):
        service = None
    if service is None:
        raise GraphQLError("No such service.", extensions={"code": "service_not_found"})
    return service


def _pathway(info, global_id):
    try:
        return pathway_get_visible(user=info.context.user, pathway_id=require_global_id(global_id, "Pathway"))
    except NotFound as exc:
        raise GraphQLError(exc.message, extensions={"code": exc.code}) from exc


def _answer(call):
    try:
        return call()
    except ServiceError as exc:
        raise GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field}) from exc


class PathwayQueries(graphene.ObjectType):
    pathways = graphene.Field(
        PathwayConnection,
        required=True,
        first=PageArguments.first,
        after=PageArguments.after,
        theme=PathwayThemeEnum(),
        description="Pathways you may see: published ones (platform admins also see drafts and archives)",
    )
    pathway = graphene.Field(PathwayType, id=graphene.ID(required=True))
    next_steps = graphene.List(
        graphene.NonNull(PathwayOfferType),
        required=True,
        pathway=graphene.ID(required=True),
        service=graphene.ID(required=True, description="The service the person is at"),
        profile=EligibilityProfileInput(),
        description="Eligible, open next services in preference order",
    )
    alternatives = graphene.List(
        graphene.NonNull(PathwayOfferType),
        required=True,
        service=graphene.ID(required=True, description="The service the person cannot reach"),
        profile=EligibilityProfileInput(),
        pathway=graphene.ID(description="Look on this pathway first"),
        description="Open services of the same category: same pathway first, then the operation's others",
    )

    def resolve_pathways(self, info, first, after=None, theme=None):
        # the steps and links of the page only: prefetch_related runs after the page is sliced
        queryset = with_steps_and_links(pathway_list_visible(user=info.context.user)).order_by(
            "name", "-version", "id"
        )
        if theme:
            queryset = queryset.filter(theme=getattr(theme, "value", theme))
        connection = connection_from_queryset(PathwayConnection, queryset, first=first, after=after)
        mark_page([edge.node for edge in connection.edges])
        return connection

    def resolve_pathway(self, info, id):
        raw = decode_global_id(id, "Pathway")
        if raw is None:
            return None
        try:
            return with_steps_and_links(pathway_list_visible(user=info.context.user)).filter(pk=raw).first()
        except (ValueError, DjangoValidationError):
            return None

    def resolve_next_steps(self, info, pathway, service, profile=None):
        found = _pathway(info, pathway)
        offered = _service(info, service)
        return _answer(
            lambda: pathway_next_steps(pathway=found, service_id=offered.id, profile=_profile(profile))
        )

    def resolve_alternatives(self, info, service, profile=None, pathway=None):
        found = _pathway(info, pathway) if pathway else None
        offered = _service(info, service)
        return _answer(
            lambda: pathway_alternatives(service=offered, profile=_profile(profile), pathway=found)
        )
