"""The root GraphQL schema, assembled from each app's queries and mutations."""

import graphene

from community.schema import CommunityMutations
from hub.graphql_node import NodeQueries
from notifications.schema import NotificationMutations, NotificationQueries, WebhookMutations, WebhookQueries
from partners.schema import PartnerQueries
from pathways.schema import PathwayQueries
from referrals.schema import ReferralMutations, ReferralQueries


# NotificationQueries first: its ``viewer`` (with the unread count) replaces the partners' one
class Query(
    NotificationQueries,
    WebhookQueries,
    PartnerQueries,
    PathwayQueries,
    ReferralQueries,
    NodeQueries,
    graphene.ObjectType,
):
    pass


class Mutation(
    ReferralMutations, NotificationMutations, WebhookMutations, CommunityMutations, graphene.ObjectType
):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
