"""The root GraphQL schema, assembled from each app's queries and mutations."""

import graphene

from hub.graphql_node import NodeQueries
from partners.schema import PartnerQueries
from pathways.schema import PathwayQueries
from referrals.schema import ReferralMutations, ReferralQueries


class Query(PartnerQueries, PathwayQueries, ReferralQueries, NodeQueries, graphene.ObjectType):
    pass


class Mutation(ReferralMutations, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
