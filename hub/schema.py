"""The root GraphQL schema, assembled from each app's queries and mutations."""

import graphene

from partners.schema import PartnerQueries
from referrals.pathway_schema import PathwayQueries


class Query(PartnerQueries, PathwayQueries, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query)
