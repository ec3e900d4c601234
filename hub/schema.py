"""The root GraphQL schema, assembled from each app's queries and mutations."""

import graphene

from partners.schema import PartnerQueries


class Query(PartnerQueries, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query)
