"""The application against servers the tests in this folder started: ``python -m
tests.scaling.scenario replicas|pooler``, with DATABASE_URL (and DATABASE_REPLICA_URLS) pointing at
them. A process of its own, because the application's ``default`` database must be that server,
not the shared test server pytest-django set up.

It drives the real stack (middleware, DRF and GraphQL views) with Django's test client, notes what
it saw — answers, and which database alias ran which statement — and prints it as one JSON object
on its last line. The assertions are the test's (``test_replicas.py``, ``test_pooler.py``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import ExitStack, contextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

import django
from django.conf import settings

if sys.argv[1:] == ["pooler"]:
    # the same pooler, without the settings that make the application safe behind it
    settings.DATABASES["with_server_side_cursors"] = {
        **settings.DATABASES["default"],
        "DISABLE_SERVER_SIDE_CURSORS": False,
        "OPTIONS": {},
    }
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from graphql_relay import to_global_id  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from partners.models import Service  # noqa: E402
from tests.referrals.api_helpers import gid  # noqa: E402
from tests.referrals.referral_setup import build_world  # noqa: E402

setup_test_environment()  # the test client's host is allowed, mail stays in memory
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

INBOX = """
query ($first: Int!) {
  referralInbox(first: $first) {
    totalCount
    edges { node { id reference status payload { givenName } } }
  }
}
"""
ACCEPT = "mutation ($id: ID!) { acceptReferral(id: $id) { referral { status } errors { code } } }"


class Caller:
    """One user with an API token, calling through the whole stack."""

    def __init__(self, user):
        self.user = user
        self.client = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")

    def graphql(self, query: str, **variables) -> dict:
        response = self.client.post(
            "/graphql", {"query": query, "variables": variables}, content_type="application/json"
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    def inbox(self) -> dict[str, str]:
        """Reference → status of every referral in the caller's GraphQL inbox."""
        edges = self.graphql(INBOX, first=50)["referralInbox"]["edges"]
        return {edge["node"]["reference"]: edge["node"]["status"] for edge in edges}

    def rest_list(self, direction: str) -> dict[str, str]:
        response = self.client.get(f"/api/v1/referrals/?direction={direction}")
        assert response.status_code == 200, response.content
        return {row["reference"]: row["status"] for row in response.json()["results"]}

    def post(self, path: str, body: dict) -> dict:
        response = self.client.post(path, body, content_type="application/json")
        assert response.status_code in (200, 201), response.content
        return response.json()


@contextmanager
def statements():
    """(alias, first word, tables named) of every statement the application runs, per database."""
    seen: list[tuple[str, str, str]] = []

    def recorder(alias):
        def record(execute, sql, params, many, context):
            seen.append((alias, sql.split(None, 1)[0].upper(), sql))
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        yield seen


def routed(call) -> tuple[object, dict]:
    """Run ``call``; return its result and where its statements went: which aliases read the
    referral table, which wrote anything."""
    with statements() as seen:
        result = call()
    referral_reads = sorted(
        {alias for alias, verb, sql in seen if verb == "SELECT" and 'FROM "referrals_referral"' in sql}
    )
    writes = sorted({alias for alias, verb, _sql in seen if verb in ("INSERT", "UPDATE", "DELETE")})
    return result, {"referral_reads": referral_reads, "writes": writes}


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def replica_sql(sql: str):
    with connections["replica_1"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def wait_for_replay() -> None:
    """Until replica_1 has replayed all the primary has written so far (a bound, not a timing)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + 60
    while not replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]:
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.02)


def refused_on_replica(write) -> str:
    try:
        write()
    except DatabaseError as exc:
        return f"{type(exc.__cause__ or exc).__name__}: {exc}".strip()
    return "accepted"


def replicas() -> dict:
    from referrals.models import Referral

    seen: dict = {"aliases": sorted(connections), "routers": settings.DATABASE_ROUTERS}
    world = build_world()
    first = world.send(idempotency_key="first")  # by the service, not a request: no caller noted
    sender, colleague, receiver = (
        Caller(world.a.caseworker),
        Caller(world.a.caseworker2),
        Caller(world.b.caseworker),
    )
    wait_for_replay()

    # reads of a caller who has not written: the replica answers, and the replica is a standby
    seen["inbox"], seen["inbox_routed"] = routed(receiver.inbox)
    seen["replica_in_recovery"] = in_recovery("replica_1")
    seen["primary_in_recovery"] = in_recovery("default")
    seen["received"], seen["received_routed"] = routed(lambda: receiver.rest_list("received"))
    seen["first"] = first.reference

    # the replica refuses every write, through the ORM too
    seen["replica_refuses_sql"] = refused_on_replica(
        lambda: replica_sql("UPDATE referrals_referral SET urgency = urgency RETURNING 1")
    )
    seen["replica_refuses_orm"] = refused_on_replica(
        lambda: Referral.objects.using("replica_1").filter(pk=first.pk).update(urgency="urgent")
    )

    # the replica stops replaying: what is written now exists on the primary only
    replica_sql("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + 60
    while replica_sql("SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
        assert time.monotonic() < deadline, "the replica never paused"
        time.sleep(0.02)
    sent = sender.post(
        "/api/v1/referrals/",
        {
            "person": str(world.person.pk),
            "consent": str(world.consent.pk),
            "to_service": str(world.service_b.pk),
            "idempotency_key": "second",
        },
    )
    seen["second"] = sent["reference"]
    # the sender, within the window: the primary, with their referral
    seen["sender_after_write"], seen["sender_after_write_routed"] = routed(lambda: sender.rest_list("sent"))
    # others read the replica, which has not replayed it
    seen["colleague_while_paused"], seen["colleague_while_paused_routed"] = routed(
        lambda: colleague.rest_list("sent")
    )
    seen["receiver_while_paused"], seen["receiver_while_paused_routed"] = routed(receiver.inbox)

    # past the window the replica still lacks the sender's write: the primary again
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 0
    seen["sender_past_window"], seen["sender_past_window_routed"] = routed(lambda: sender.rest_list("sent"))
    # a replica lagging more than REPLICA_MAX_LAG_SECONDS serves nobody
    settings.REPLICA_MAX_LAG_SECONDS = 0
    seen["receiver_lag_bound"], seen["receiver_lag_bound_routed"] = routed(receiver.inbox)
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 5

    # a GraphQL mutation writes on the primary; the inbox right after it reads there too
    seen["accept"], seen["accept_routed"] = routed(
        lambda: receiver.graphql(ACCEPT, id=gid("Referral", first))
    )
    seen["receiver_after_mutation"], seen["receiver_after_mutation_routed"] = routed(receiver.inbox)

    replica_sql("SELECT pg_wal_replay_resume()")
    wait_for_replay()
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 0
    seen["sender_caught_up"], seen["sender_caught_up_routed"] = routed(lambda: sender.rest_list("sent"))
    seen["receiver_caught_up"], seen["receiver_caught_up_routed"] = routed(receiver.inbox)

    # a replica that does not answer: the primary reads instead
    connections["replica_1"].close()
    connections["replica_1"].settings_dict["PORT"] = os.environ["SCENARIO_CLOSED_PORT"]
    seen["replica_down"], seen["replica_down_routed"] = routed(receiver.inbox)
    return seen


def pooler() -> dict:
    seen: dict = {
        "server_side_cursors_disabled": connections["default"].settings_dict["DISABLE_SERVER_SIDE_CURSORS"],
        "prepare_threshold": connections["default"]
        .settings_dict["OPTIONS"]
        .get("prepare_threshold", "unset"),
    }
    world = build_world()
    sender, receiver = Caller(world.a.caseworker), Caller(world.b.caseworker)
    sent = sender.post(
        "/api/v1/referrals/",
        {
            "person": str(world.person.pk),
            "consent": str(world.consent.pk),
            "to_service": str(world.service_b.pk),
            "idempotency_key": "through-the-pooler",
        },
    )
    seen["sent"] = {"reference": sent["reference"], "status": sent["status"]}
    seen["inbox"] = receiver.inbox()
    acknowledged = receiver.post(f"/api/v1/referrals/{sent['id']}/acknowledge", {})
    seen["acknowledged"] = acknowledged["status"]
    accepted = receiver.graphql(ACCEPT, id=to_global_id("Referral", sent["id"]))
    seen["accepted"] = accepted["acceptReferral"]
    seen["inbox_after"] = receiver.inbox()
    # many transactions in a row, each on whichever server connection, each reset after the last:
    # the time zone Django sets on connecting is still the one every statement sees
    with connections["default"].cursor() as cursor:
        zones = set()
        for _ in range(20):
            cursor.execute("SELECT current_setting('TimeZone')")
            zones.add(cursor.fetchone()[0])
    seen["time_zones"] = sorted(zones)
    # .iterator() outside a transaction (the HSDS export): fine without server-side cursors …
    out = os.environ["SCENARIO_EXPORT_DIR"]
    call_command("hsds_export", out, "--format", "json", stdout=open(os.devnull, "w"))  # noqa: SIM115
    seen["exported_files"] = sorted(os.listdir(out))
    seen["services"] = Service.objects.count()
    # … and broken with them: the cursor is declared in one transaction, gone by the next
    try:
        list(Service.objects.using("with_server_side_cursors").iterator(chunk_size=1))
        seen["iterator_with_server_side_cursors"] = "worked"
    except DatabaseError as exc:
        seen["iterator_with_server_side_cursors"] = f"{type(exc.__cause__ or exc).__name__}: {exc}"
    return seen


if __name__ == "__main__":
    result = {"replicas": replicas, "pooler": pooler}[sys.argv[1]]()
    print(json.dumps(result, default=str))
