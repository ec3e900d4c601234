"""GraphQL types and queries for the directory and the caller."""

import uuid

import graphene
from graphene import relay
from graphene_django import DjangoObjectType
from graphql import GraphQLError

from common.connections import CountedConnection, PageArguments, connection_from_queryset, prefetch_for_page
from common.graphql_ids import decode_global_id
from common.replicas import replica_safe
from partners.models import Location, Organisation, Service, ServiceCategory
from partners.selectors import (
    is_platform_admin,
    location_list_visible,
    membership_active,
    organisation_list_visible,
    service_list_visible,
)


class OrganisationType(DjangoObjectType):
    class Meta:
        model = Organisation
        name = "Organisation"
        interfaces = (relay.Node,)
        fields = ("id", "name", "acronym", "kind", "partnership", "is_active")

    # node(id:) goes through the selector; get_queryset is left alone so foreign keys to this type
    # resolve from their joined rows instead of one get_node query each
    @classmethod
    def get_node(cls, info, id):
        return organisation_list_visible(user=info.context.user).filter(pk=id).first()


class ServiceCategoryType(DjangoObjectType):
    class Meta:
        model = ServiceCategory
        name = "ServiceCategory"
        fields = ("code", "name")


class LocationType(DjangoObjectType):
    class Meta:
        model = Location
        name = "Location"
        interfaces = (relay.Node,)
        fields = ("id", "name", "kind", "pcode")

    @classmethod
    def get_node(cls, info, id):
        return location_list_visible(user=info.context.user).filter(pk=id).first()


class ServiceType(DjangoObjectType):
    required_fields = graphene.List(graphene.NonNull(graphene.String), required=True)
    optional_fields = graphene.List(graphene.NonNull(graphene.String), required=True)
    sexes = graphene.List(graphene.NonNull(graphene.String), required=True)
    specific_needs = graphene.List(graphene.NonNull(graphene.String), required=True)
    languages = graphene.List(graphene.NonNull(graphene.String), required=True)
    locations = graphene.List(graphene.NonNull(LocationType), required=True)

    class Meta:
        model = Service
        name = "Service"
        interfaces = (relay.Node,)
        fields = (
            "id",
            "name",
            "description",
            "organisation",
            "category",
            "locations",
            "min_age",
            "max_age",
            "is_active",
            "is_accepting_referrals",
            "response_hours_emergency",
            "response_hours_urgent",
            "response_hours_normal",
            "outcome_due_days",
        )

    @classmethod
    def get_node(cls, info, id):
        return service_list_visible(user=info.context.user).filter(pk=id).first()

    def resolve_locations(self, info):
        prefetch_for_page(self, "locations")  # services joined onto a page load theirs together
        return self.locations.all()


def _location_id(value: str) -> uuid.UUID:
    """A `Location.id` as the API hands it out (a global id), or the bare UUID inside it."""
    for candidate in (value, decode_global_id(value, "Location")):
        try:
            return uuid.UUID(candidate)
        except (TypeError, ValueError, AttributeError):
            continue
    # the code malformed arguments already answer (hub.graphql_view), with the argument named
    raise GraphQLError(
        f"`location` {value!r} is not a Location id: pass a `Location.id`, "
        "e.g. from `services { locations { id } }`.",
        extensions={"code": "invalid", "field": "location"},
    )


class ServiceConnection(CountedConnection):
    class Meta:
        node = ServiceType


class Viewer(graphene.ObjectType):
    username = graphene.String(required=True)
    first_name = graphene.String(required=True)
    last_name = graphene.String(required=True)
    organisation = graphene.Field(OrganisationType)
    role = graphene.String(description="focal_point, caseworker or viewer; null without an organisation")
    is_platform_admin = graphene.Boolean(required=True)


class PartnerQueries(graphene.ObjectType):
    viewer = graphene.Field(Viewer, required=True, description="The authenticated caller")
    services = graphene.Field(
        ServiceConnection,
        required=True,
        first=PageArguments.first,
        after=PageArguments.after,
        category=graphene.String(description="Category code, e.g. gbv_case_management"),
        location=graphene.ID(description="A `Location.id` (its bare UUID is accepted too)"),
        accepting_only=graphene.Boolean(default_value=False),
        description="The shared service directory",
    )

    def resolve_viewer(self, info):
        user = info.context.user
        membership = membership_active(user=user)
        return Viewer(
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            organisation=membership.organisation if membership else None,
            role=membership.role if membership else None,
            is_platform_admin=is_platform_admin(user),
        )

    @replica_safe
    def resolve_services(self, info, first, after=None, category=None, location=None, accepting_only=False):
        queryset = service_list_visible(user=info.context.user).filter(is_active=True)
        if category:
            queryset = queryset.filter(category__code=category)
        if location:
            queryset = queryset.filter(locations__id=_location_id(location)).distinct()
        if accepting_only:
            queryset = queryset.filter(is_accepting_referrals=True)
        return connection_from_queryset(ServiceConnection, queryset, first=first, after=after)
