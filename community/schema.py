"""Staff's side of the person's door over GraphQL: ``lockStatusCheck``."""

import graphene

from common.errors import NotFound
from common.graphql import ServiceMutation
from community import services


def _lockable(info, global_id: str):
    def fetch(raw):
        try:
            return services.referral_for_lock(actor=info.context.user, referral_id=raw)
        except NotFound:
            return None

    return ServiceMutation.node_or_error(global_id, "Referral", fetch, code="referral_not_found")


class LockStatusCheck(ServiceMutation):
    """Lock (or, with ``locked: false``, unlock) status checks with a referral's reference: a
    lost or stolen phone. The organisation holding the person only."""

    class Arguments:
        id = graphene.ID(required=True, description="The referral's global id")
        locked = graphene.Boolean(required=True)

    reference = graphene.String(description="The referral's reference; null on error")
    locked = graphene.Boolean(description="Whether status checks with it are locked now; null on error")

    @classmethod
    def mutate(cls, root, info, id, locked):
        def change():
            referral = _lockable(info, id)
            if locked:
                services.status_check_lock(actor=info.context.user, referral=referral)
            else:
                services.status_check_unlock(actor=info.context.user, referral=referral)
            return referral

        referral, errors = cls.perform(info, change)
        if errors:
            return cls(reference=None, locked=None, errors=errors)
        return cls(reference=referral.reference, locked=locked, errors=[])


class CommunityMutations(graphene.ObjectType):
    lock_status_check = LockStatusCheck.Field()
