"""Helpers the referral API tests share: global ids, GraphQL answers, and a referral brought to a state."""

from graphql_relay import to_global_id

from partners.models import Membership
from referrals import services
from referrals.models import Referral


def gid(kind: str, obj) -> str:
    return to_global_id(kind, str(obj.pk))


def caseworker_id(user) -> str:
    """What ``assignableCaseworkers`` hands out: the global id of the user's active membership."""
    return to_global_id("Caseworker", str(Membership.objects.get(user=user, is_active=True).pk))


def ok(body) -> dict:
    assert "errors" not in body, body
    return body["data"]


def bring_to(world, state: str, key: str | None = None) -> Referral:
    referral = world.send(**({"idempotency_key": key} if key else {}))
    receiver, sender = world.b.caseworker, world.a.caseworker
    steps = {
        "sent": [],
        "acknowledged": [(receiver, "acknowledge", {})],
        "accepted": [(receiver, "accept", {})],
        "declined": [(receiver, "decline", {"reason_code": "no_capacity"})],
        "completed": [(receiver, "accept", {}), (receiver, "complete", {"outcome": "service_provided"})],
        "closed": [
            (receiver, "accept", {}),
            (receiver, "complete", {"outcome": "service_provided"}),
            (sender, "close", {}),
        ],
        "withdrawn": [(sender, "withdraw", {"reason_code": "person_request"})],
    }[state]
    for actor, action, arguments in steps:
        referral = services.referral_transition(actor=actor, referral=referral, action=action, **arguments)
    assert referral.status == state
    return referral
