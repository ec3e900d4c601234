"""Read replicas, in this process: which entry points may read from one, which requests count as a
caller's write, the read-after-write record, and the settings (hub/replicas.py, hub/settings.py).
A real replica answering is tests/scaling/test_replicas.py."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connection
from graphql import get_operation_ast, parse

from common.replicas import is_replica_safe
from hub import replicas
from hub.graphql_view import replica_safe_query
from hub.models import RecentWrite
from hub.schema import schema
from tests.test_authorization_matrix import _view_class, _walk

SETTINGS = Path(__file__).resolve().parents[1] / "hub" / "settings.py"

# Written by hand: the pure list and inbox entry points whose staleness, bounded by
# REPLICA_MAX_LAG_SECONDS and never older than the caller's own last write, harms nobody.
REPLICA_SAFE_ROUTES = {("referral-list", "get"), ("service-list", "get")}
REPLICA_SAFE_QUERY_FIELDS = {"referralInbox", "sentReferrals", "services"}


def _handlers():
    from django.urls import get_resolver

    for _path, pattern in _walk(get_resolver()):
        callback = pattern.callback
        cls = _view_class(callback)
        actions = getattr(callback, "actions", None) or {}
        for method, action in actions.items():
            if method != "head":  # DRF maps HEAD onto GET's action once a route has been called
                yield pattern.name, method, getattr(cls, action)
        if not actions and cls is not None:
            for method in ("get", "post", "put", "patch", "delete"):
                if callable(getattr(cls, method, None)):
                    yield pattern.name, method, getattr(cls, method)


def test_exactly_the_list_and_inbox_entry_points_may_read_from_a_replica():
    marked_routes = {(name, method) for name, method, handler in _handlers() if is_replica_safe(handler)}
    assert marked_routes == REPLICA_SAFE_ROUTES
    query_fields = schema.graphql_schema.query_type.fields
    assert {name for name, field in query_fields.items() if is_replica_safe(field.resolve)} == (
        REPLICA_SAFE_QUERY_FIELDS
    )
    mutation_fields = schema.graphql_schema.mutation_type.fields.values()
    assert not any(is_replica_safe(field.resolve) for field in mutation_fields)


@pytest.mark.parametrize(
    ("document", "replica_safe"),
    [
        ("{ referralInbox(first: 5) { totalCount } }", True),
        (
            "{ __typename referralInbox(first: 5) { totalCount } sentReferrals(first: 5) { totalCount } }",
            True,
        ),
        ("{ ...Lists } fragment Lists on Query { services(first: 5) { totalCount } }", True),
        ("{ ... on Query { referralInbox(first: 5) { totalCount } } }", True),
        # one field that must read the primary sends the whole operation there
        ("{ referralInbox(first: 5) { totalCount } viewer { username } }", False),
        (
            '{ ...A } fragment A on Query { ...B referral(id: "x") { id } } fragment B on Query { ...A }',
            False,
        ),
        ("{ __typename }", False),
        ("{ noSuchField }", False),
        ('mutation { acceptReferral(id: "x") { errors { code } } }', False),
    ],
)
def test_a_graphql_query_reads_from_a_replica_only_when_every_root_field_may(document, replica_safe):
    parsed = parse(document)
    assert replica_safe_query(schema.graphql_schema, parsed, get_operation_ast(parsed)) is replica_safe


@pytest.mark.django_db
def test_a_write_is_recorded_with_the_primarys_clock_and_wal_position(settings, org_a):
    user_id = org_a.caseworker.pk
    assert replicas.last_write(user_id) is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
        (before,) = cursor.fetchone()
    replicas.record_write(user_id)
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 5
    recent, position = replicas.last_write(user_id)
    assert recent is True and position >= before
    # the test's transaction holds now() still: written "now", a window of 0 has already passed
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 0
    assert replicas.last_write(user_id) == (False, position)
    replicas.record_write(user_id)  # once per caller: the latest write replaces the one before
    assert RecentWrite.objects.filter(user_id=user_id).count() == 1


def test_without_replicas_the_middleware_removes_itself(settings):
    settings.DATABASE_REPLICAS = []
    with pytest.raises(MiddlewareNotUsed):
        replicas.ReplicaMiddleware(lambda request: None)


@pytest.mark.django_db
def test_writes_and_mutations_are_a_callers_write_queries_and_reads_are_not(
    settings, client, api, gql, org_a
):
    settings.DATABASE_REPLICAS = ["replica_1"]  # the middleware loads; none of these asks a replica
    user = org_a.caseworker

    def recorded() -> bool:
        return RecentWrite.objects.filter(user_id=user.pk).exists()

    assert api(user).get("/api/v1/me").status_code == 200
    status, _body = gql(user, "{ viewer { username } }")  # a query, though a POST
    assert status == 200 and not recorded()
    status, _body = gql(user, 'mutation { acceptReferral(id: "UmVmZXJyYWw6eA==") { errors { code } } }')
    assert status == 200 and recorded()
    RecentWrite.objects.all().delete()
    response = api(user).post("/api/v1/information-given", {"service": str(org_a.pk), "channel": "phone"})
    assert response.status_code == 404 and recorded()  # a write request, answered or not


def _settings(monkeypatch, **environment) -> dict:
    for name in ("DATABASE_REPLICA_URLS", "DATABASE_POOLER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://hub@primary.example:5432/hub")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_without_replica_urls_there_is_one_database_and_no_router(monkeypatch):
    loaded = _settings(monkeypatch)
    assert list(loaded["DATABASES"]) == [DEFAULT_DB_ALIAS]
    assert loaded["DATABASE_REPLICAS"] == [] and "DATABASE_ROUTERS" not in loaded
    assert loaded["DATABASES"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_each_replica_url_is_an_alias_the_test_runner_mirrors_to_the_primary(monkeypatch):
    loaded = _settings(
        monkeypatch,
        DATABASE_REPLICA_URLS="postgres://hub@replica-a.example/hub, postgres://hub@replica-b.example/hub?connect_timeout=5",
    )
    databases = loaded["DATABASES"]
    assert loaded["DATABASE_REPLICAS"] == ["replica_1", "replica_2"]
    assert loaded["DATABASE_ROUTERS"] == ["common.replicas.ReplicaRouter"]
    assert [databases[alias]["HOST"] for alias in loaded["DATABASE_REPLICAS"]] == [
        "replica-a.example",
        "replica-b.example",
    ]
    assert all(databases[alias]["TEST"] == {"MIRROR": "default"} for alias in loaded["DATABASE_REPLICAS"])
    assert databases["replica_1"]["OPTIONS"]["connect_timeout"] == 2
    assert int(databases["replica_2"]["OPTIONS"]["connect_timeout"]) == 5


def test_a_transaction_pooler_gets_no_server_side_cursors_nor_prepared_statements(monkeypatch):
    loaded = _settings(
        monkeypatch, DATABASE_POOLER="transaction", DATABASE_REPLICA_URLS="postgres://hub@replica.example/hub"
    )
    for database in loaded["DATABASES"].values():
        assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert database["CONN_HEALTH_CHECKS"] is True
        assert database["OPTIONS"]["prepare_threshold"] is None
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOLER"):
        _settings(monkeypatch, DATABASE_POOLER="session")
