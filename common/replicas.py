"""Read replicas: which database a read goes to, and the mark on the reads a replica may serve.

``hub.settings`` adds one database alias per URL of ``DATABASE_REPLICA_URLS`` (``replica_1``,
``replica_2``, …) and installs :class:`ReplicaRouter`. Without replicas neither exists and every
query goes to ``default``, as it always did.

Writes always go to ``default``, the primary, and so do migrations. A read goes to a replica only

- inside :func:`replica_reads`, which the view layer enters for the pure list and inbox entry points
  it marks ``@replica_safe`` (never a selector: what may be stale is a property of the entry point);
- when the request's routing allows it: the policy (``hub.replicas``) refuses it for a request
  that writes, and for a caller whose own recent write a replica may still lack;
- outside a transaction on the primary: a transaction sees one database, so every read inside one
  stays there.

The routing lives in context variables: one per request, set by ``hub.replicas.ReplicaMiddleware``,
and one for the alias of the :func:`replica_reads` block being run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_PREFIX = "replica_"


def is_replica_alias(alias: str | None) -> bool:
    return bool(alias) and alias.startswith(REPLICA_PREFIX)


@dataclass
class RequestRouting:
    """Where one request's replica-safe reads go, decided once, when the first of them starts."""

    choose: Callable[[], str]  # the policy: a replica's alias, or DEFAULT_DB_ALIAS
    writes: bool  # the request writes: every read goes to the primary, and its caller is noted
    alias: str | None = None

    def read_alias(self) -> str:
        if self.writes:
            return DEFAULT_DB_ALIAS
        if self.alias is None:
            self.alias = self.choose()
        return self.alias


_request: ContextVar[RequestRouting | None] = ContextVar("replica_request", default=None)
_reading: ContextVar[str | None] = ContextVar("replica_reading", default=None)


@contextmanager
def request_routing(routing: RequestRouting) -> Iterator[RequestRouting]:
    """The routing of the request being served (``hub.replicas.ReplicaMiddleware``)."""
    token = _request.set(routing)
    try:
        yield routing
    finally:
        _request.reset(token)


def mark_read_only() -> None:
    """This request writes nothing its caller would read back, whatever its method: a GraphQL query
    arrives as a POST. Only the GraphQL view says so, before anything is read."""
    routing = _request.get()
    if routing is not None:
        routing.writes = False


@contextmanager
def replica_reads() -> Iterator[str]:
    """Reads inside may be served by a replica, if this request's routing allows it. Yields the
    alias chosen (``default`` outside a request, and whenever the primary must answer)."""
    routing = _request.get()
    alias = routing.read_alias() if routing is not None else DEFAULT_DB_ALIAS
    token = _reading.set(alias)
    try:
        yield alias
    finally:
        _reading.reset(token)


def replica_safe(entry_point: Callable) -> Callable:
    """Mark a read-only list or inbox view method or resolver: its reads may come from a replica,
    as much behind the primary as the policy allows. Its writes (the access log) still go to the
    primary. The GraphQL view runs a whole query inside :func:`replica_reads` when every root field
    it selects is marked (nested fields resolve after the root resolver has returned)."""

    @functools.wraps(entry_point)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return entry_point(*args, **kwargs)

    wrapper.replica_safe = True
    return wrapper


def is_replica_safe(entry_point: Callable | None) -> bool:
    return getattr(entry_point, "replica_safe", False) is True


class ReplicaRouter:
    """``DATABASE_ROUTERS`` when replicas are configured."""

    def db_for_read(self, model, **hints) -> str:
        alias = _reading.get()
        if not is_replica_alias(alias) or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints) -> str:
        # also for an object read from a replica: saving it writes the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # replicas hold the primary's rows: an object read from one may point at one from another
        if all(db == DEFAULT_DB_ALIAS or is_replica_alias(db) for db in (obj1._state.db, obj2._state.db)):
            return True
        return None

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
