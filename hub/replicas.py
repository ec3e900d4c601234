"""Read-your-writes for the read replicas: the policy behind ``common.replicas`` (docs/scaling.md).

:class:`ReplicaMiddleware` opens each request's routing (only when ``DATABASE_REPLICA_URLS`` is
set; otherwise it removes itself at start-up). A request that writes — any method but GET, HEAD and
OPTIONS, except a GraphQL query, which the GraphQL view tells apart — reads only from the primary
and, once answered, records for its caller when they wrote and how far the primary's write-ahead
log had got (:class:`hub.models.RecentWrite`). The caller is the user, through any of their
sessions and tokens.

A request's replica-safe reads (``@replica_safe``) then go to the first replica, in a random order
per request, for which all of these hold; when none qualifies the primary answers:

- the caller wrote nothing within ``REPLICA_READ_AFTER_WRITE_SECONDS``;
- the replica has replayed the write-ahead log up to the caller's last write, so a replica lagging
  longer than that window still never shows them a state from before their own write;
- it is a standby no more than ``REPLICA_MAX_LAG_SECONDS`` behind (what others wrote);
- it answers. One that did not is left alone by this process for ``REPLICA_RETRY_SECONDS``.

That costs a request with a replica-safe read one query on the primary (the caller's last write)
and one on each replica asked (its position), whichever answers the read.
"""

from __future__ import annotations

import logging
import random
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from common.replicas import RequestRouting, request_routing

logger = logging.getLogger("hub.replicas")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# replica alias → when this process may ask it again (time.monotonic()), after it failed to answer
_unreachable_until: dict[str, float] = {}

# the primary's clock on both sides of the window: web workers' clocks may disagree
_RECORD = """
INSERT INTO hub_recentwrite (user_id, written_at, wal_position)
VALUES (%s, now(), pg_current_wal_insert_lsn() - '0/0'::pg_lsn)
ON CONFLICT (user_id) DO UPDATE SET written_at = EXCLUDED.written_at, wal_position = EXCLUDED.wal_position
"""
_LAST_WRITE = """
SELECT written_at > now() - make_interval(secs => %s), wal_position FROM hub_recentwrite WHERE user_id = %s
"""
# the insert position read after the caller's commit is at or past its commit record; a standby
# that replayed up to it has the write. Lag: nothing received and not yet replayed → none; else the
# age of the last transaction replayed (unknown → too old). NULLs (not a standby) → not ready.
_REPLICA_READY = """
SELECT COALESCE(
    pg_is_in_recovery()
    AND pg_last_wal_replay_lsn() - '0/0'::pg_lsn >= %s
    AND CASE
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
    END <= %s,
    false
)
"""


def _caller_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def record_write(user_id: int) -> None:
    """``user_id`` has just written: their next reads wait for a replica that has it."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_RECORD, [user_id])


def last_write(user_id: int) -> tuple[bool, int] | None:
    """(within the read-after-write window, WAL position) of the caller's last write, or None."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_LAST_WRITE, [settings.REPLICA_READ_AFTER_WRITE_SECONDS, user_id])
        return cursor.fetchone()


def replica_ready(alias: str, *, wal_position: int) -> bool:
    """The replica is a standby that has replayed up to ``wal_position`` and lags little enough."""
    with connections[alias].cursor() as cursor:
        cursor.execute(_REPLICA_READY, [wal_position, settings.REPLICA_MAX_LAG_SECONDS])
        return cursor.fetchone()[0]


def choose_read_alias(request) -> str:
    """Where this request's replica-safe reads go (the rules in the module docstring)."""
    user_id = _caller_id(request)
    written = last_write(user_id) if user_id is not None else None
    if written is not None and written[0]:
        return DEFAULT_DB_ALIAS
    wal_position = written[1] if written is not None else 0
    now = time.monotonic()
    candidates = [alias for alias in settings.DATABASE_REPLICAS if _unreachable_until.get(alias, 0) <= now]
    random.shuffle(candidates)  # spreading the load, not a secret
    for alias in candidates:
        try:
            if replica_ready(alias, wal_position=wal_position):
                return alias
        except DatabaseError:
            logger.warning(
                "Replica %s did not answer; trying the next, then the primary", alias, exc_info=True
            )
            connections[alias].close()
            _unreachable_until[alias] = now + settings.REPLICA_RETRY_SECONDS
    return DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    def __init__(self, get_response):
        if not settings.DATABASE_REPLICAS:
            raise MiddlewareNotUsed  # one database: nothing to route
        self.get_response = get_response

    def __call__(self, request):
        routing = RequestRouting(
            choose=lambda: choose_read_alias(request), writes=request.method not in SAFE_METHODS
        )
        with request_routing(routing):
            response = self.get_response(request)
        # after the view's transaction committed, before the caller has the answer in hand
        if routing.writes and (user_id := _caller_id(request)) is not None:
            try:
                record_write(user_id)
            except DatabaseError:
                # the write itself succeeded: answering 500 would invite a blind retry
                logger.exception("Could not record user %s's write; replicas may serve them stale", user_id)
        return response
