"""``node(id:)``: every Relay type is looked up through its own scoped ``get_node``.

A global id of an object the caller may not see, a malformed id, or an id of one type dressed up
as another all answer null, exactly like an id that does not exist.
"""

import graphene
from django.core.exceptions import ValidationError as DjangoValidationError
from graphene import relay

from common.graphql_ids import split_global_id


class NodeQueries(graphene.ObjectType):
    node = graphene.Field(relay.Node, id=graphene.ID(required=True), description="Any object by global id")

    def resolve_node(self, info, id):
        parts = split_global_id(id)
        if parts is None:
            return None
        type_name, raw = parts
        graphene_type = getattr(info.schema.get_type(type_name), "graphene_type", None)
        if graphene_type is None or relay.Node not in getattr(graphene_type._meta, "interfaces", ()):
            return None
        try:
            return graphene_type.get_node(info, raw)
        except (ValueError, DjangoValidationError):
            return None
