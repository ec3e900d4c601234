"""A real streaming replica: list and inbox reads come from it, writes never do, and a caller never
reads a state from before their own write.

The primary is this folder's own PostgreSQL (``conftest.primary``); the replica is a base backup of
it (``pg_basebackup``) with ``primary_conninfo`` and ``standby.signal``, started from the same
binaries on a free port of 127.0.0.1. The application runs in a process of its own against both
(``scenario.replicas``). Two oracles tell which database answered: the statements each alias ran,
and data only one of them has — the replica's replay is paused while a referral is sent, so a
list that shows it cannot have come from the replica, and one that misses it did.
"""

import pytest

from tests.scaling.conftest import database_from_template, run_scenario
from tests.scaling.postgres import free_port, replica_of, running

# pytest-django sets up the test database only for a session holding a test that asks for it;
# this one's template is a copy of it
pytestmark = pytest.mark.django_db


def test_a_streaming_replica_serves_lists_and_inboxes_and_never_a_callers_own_stale_state(primary):
    database = database_from_template(primary, "hub_replicas")
    replica = replica_of(primary)
    replica_pid, replica_folder = replica.pid, replica.folder
    try:
        assert replica.query("SELECT pg_is_in_recovery()")[0] is True
        seen = run_scenario(
            "replicas",
            DATABASE_URL=primary.url(database),
            DATABASE_REPLICA_URLS=replica.url(database),
            REPLICA_MAX_LAG_SECONDS="3600",  # a paused replica is still one to read, unless said
            SCENARIO_CLOSED_PORT=str(free_port()),
        )
    finally:
        replica.stop()

    # the replica was stopped and removed: no process, no folder
    assert replica_pid is not None and not running(replica_pid)
    assert not replica_folder.exists()

    assert seen["aliases"] == ["default", "replica_1"]
    assert seen["routers"] == ["common.replicas.ReplicaRouter"]
    first, second = seen["first"], seen["second"]

    # a caller who has not written: the inbox and the REST list are read on the replica, a standby;
    # the payload's access-log row is written on the primary in the same request
    assert seen["inbox"] == {first: "SENT"}
    assert seen["inbox_routed"] == {"referral_reads": ["replica_1"], "writes": ["default"]}
    assert seen["received"] == {first: "sent"}
    assert seen["received_routed"] == {"referral_reads": ["replica_1"], "writes": ["default"]}
    assert (seen["replica_in_recovery"], seen["primary_in_recovery"]) == (True, False)

    # the replica refuses writes, in SQL and through the ORM
    for refusal in (seen["replica_refuses_sql"], seen["replica_refuses_orm"]):
        assert refusal.startswith("ReadOnlySqlTransaction") and "read-only transaction" in refusal, refusal

    # replay paused, the sender sends: they see it at once, read on the primary
    assert seen["sender_after_write"] == {first: "sent", second: "sent"}
    assert seen["sender_after_write_routed"]["referral_reads"] == ["default"]
    # others read the replica, which does not have it yet
    assert seen["colleague_while_paused"] == {first: "sent"}
    assert seen["colleague_while_paused_routed"]["referral_reads"] == ["replica_1"]
    assert seen["receiver_while_paused"] == {first: "SENT"}
    assert seen["receiver_while_paused_routed"]["referral_reads"] == ["replica_1"]
    # past the read-after-write window, the replica still lacks the sender's write: the primary
    assert seen["sender_past_window"] == {first: "sent", second: "sent"}
    assert seen["sender_past_window_routed"]["referral_reads"] == ["default"]
    # with a lag bound the paused replica exceeds, nobody reads it
    assert seen["receiver_lag_bound"] == {first: "SENT", second: "SENT"}
    assert seen["receiver_lag_bound_routed"]["referral_reads"] == ["default"]

    # a GraphQL mutation reads and writes the primary only; the mutating caller's next read too
    assert seen["accept"] == {"acceptReferral": {"referral": {"status": "ACCEPTED"}, "errors": []}}
    assert seen["accept_routed"]["referral_reads"] == ["default"]
    assert "replica_1" not in seen["accept_routed"]["writes"]
    assert seen["receiver_after_mutation"] == {first: "ACCEPTED", second: "SENT"}
    assert seen["receiver_after_mutation_routed"]["referral_reads"] == ["default"]

    # replay resumed and caught up: the replica serves the writers again, with their writes
    assert seen["sender_caught_up"] == {first: "accepted", second: "sent"}
    assert seen["sender_caught_up_routed"]["referral_reads"] == ["replica_1"]
    assert seen["receiver_caught_up"] == {first: "ACCEPTED", second: "SENT"}
    assert seen["receiver_caught_up_routed"]["referral_reads"] == ["replica_1"]

    # a replica that does not answer: the primary serves the read
    assert seen["replica_down"] == {first: "ACCEPTED", second: "SENT"}
    assert seen["replica_down_routed"]["referral_reads"] == ["default"]
