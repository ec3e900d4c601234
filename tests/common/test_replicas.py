"""The router and the replica-safe mark (common/replicas.py). Which replica answers, for real, is in
tests/scaling/test_replicas.py; these are the rules the router applies to what it is told."""

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction

from common.replicas import (
    ReplicaRouter,
    RequestRouting,
    is_replica_safe,
    mark_read_only,
    replica_reads,
    replica_safe,
    request_routing,
)
from referrals.models import Referral

router = ReplicaRouter()


def routing_to(alias: str, *, writes: bool = False) -> tuple[RequestRouting, list]:
    asked = []

    def choose():
        asked.append(alias)
        return alias

    return RequestRouting(choose=choose, writes=writes), asked


def test_reads_go_to_the_primary_outside_a_replica_block():
    routing, asked = routing_to("replica_1")
    with request_routing(routing):
        assert router.db_for_read(Referral) == DEFAULT_DB_ALIAS
    assert asked == []  # nothing marked ran: the policy was never asked
    with replica_reads() as alias:  # outside a request (a command, a job): the primary
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Referral) == DEFAULT_DB_ALIAS


def test_a_replica_block_reads_from_the_alias_the_policy_chose_once_per_request():
    routing, asked = routing_to("replica_2")
    with request_routing(routing):
        with replica_reads() as alias:
            assert alias == "replica_2"
            assert router.db_for_read(Referral) == "replica_2"
        assert router.db_for_read(Referral) == DEFAULT_DB_ALIAS  # the block ended
        with replica_reads():
            assert router.db_for_read(Referral) == "replica_2"
    assert asked == ["replica_2"]


def test_writes_and_migrations_go_to_the_primary_even_inside_a_replica_block():
    routing, _asked = routing_to("replica_1")
    with request_routing(routing), replica_reads():
        assert router.db_for_write(Referral) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Referral, instance=Referral()) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "referrals") is True
    assert router.allow_migrate("replica_1", "referrals") is False


@pytest.mark.django_db
def test_inside_a_transaction_every_read_stays_on_the_primary():
    routing, _asked = routing_to("replica_1")
    with request_routing(routing), replica_reads(), transaction.atomic():
        assert router.db_for_read(Referral) == DEFAULT_DB_ALIAS


def test_a_request_that_writes_reads_from_the_primary_without_asking_the_policy():
    routing, asked = routing_to("replica_1", writes=True)
    with request_routing(routing), replica_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS
    assert asked == []
    # a GraphQL query arrives as a POST; the view says it writes nothing
    routing, asked = routing_to("replica_1", writes=True)
    with request_routing(routing):
        mark_read_only()
        with replica_reads() as alias:
            assert alias == "replica_1"
    assert asked == ["replica_1"]


def test_objects_of_the_primary_and_of_replicas_may_refer_to_each_other():
    from_replica, from_primary, elsewhere = Referral(), Referral(), Referral()
    from_replica._state.db, from_primary._state.db, elsewhere._state.db = "replica_1", "default", "other"
    assert router.allow_relation(from_replica, from_primary) is True
    assert router.allow_relation(from_replica, elsewhere) is None  # not ours to allow


def test_replica_safe_marks_and_enters_a_replica_block():
    routing, _asked = routing_to("replica_1")

    @replica_safe
    def listing():
        return router.db_for_read(Referral)

    assert is_replica_safe(listing) and not is_replica_safe(lambda: None) and not is_replica_safe(None)
    with request_routing(routing):
        assert listing() == "replica_1"
