"""Person data keys: made on first use, found in batches, held briefly, destroyed on erasure.

Each person has one random data key (``consent.PersonKey``), stored only wrapped under the master
keys (``consent.crypto``). Every encrypted field of the person's rows, and of every copy of their
data in other apps, is sealed with it (``consent.fields``); a sealed value names its key by id.

Finding keys. Encrypted fields are opened lazily, on first attribute access, so a page of rows
read by one query is opened with **one** key query: every sealed value read from the database
announces its key id (``want``), and the first one opened loads the keys of all values announced
so far (up to ``BATCH``) in a single ``SELECT``.

Holding keys. Unwrapped keys are kept in memory per thread, never across requests (the cache is
dropped when a request starts and when it ends), never longer than ``PERSON_KEY_CACHE_SECONDS``
(default 60) outside requests (commands, jobs), never after the master keys change, and never
after an erasure in this process (``destroy`` invalidates every thread's cache, now and again on
commit). A destroyed key is never cached: its absence is read from the database each time.

Never logged. Data keys exist in clear only in memory. Wrapped keys are written through the ORM
(the writes count as queries like any other) but are redacted from the SQL debug log
(``RedactWrappedKeys`` on ``django.db.backends``) and from ``connection.queries``.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consent import crypto
from consent.crypto import DecryptionError, PersonKeyDestroyed

BATCH = 500  # keys loaded by one query at most
MAX_CACHED = 5000  # a cache holding more is dropped and starts again
MAX_WANTED = 20000  # announced key ids remembered for the next batch
KEY_TABLE = "consent_personkey"
_WRAPPED = re.compile(re.escape(crypto.TOKEN_PREFIX) + r"[A-Za-z0-9_\-=]+")

_local = threading.local()
_generation_lock = threading.Lock()
_generation = 0  # bumped by every destruction: each thread's cache notices and starts again


@dataclass
class _Key:
    id: uuid.UUID
    person_id: uuid.UUID
    wrapped: str
    _fernet: Fernet | None = None

    def fernet(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(crypto.unwrap(self.wrapped))
        return self._fernet

    def __repr__(self) -> str:  # never the key, not even wrapped
        return f"<data key {self.id.hex[:8]}>"


class _Cache:
    def __init__(self) -> None:
        self.generation = _generation
        self.ring = crypto.master_ring_id()
        self.born = time.monotonic()
        self.by_id: dict[uuid.UUID, _Key] = {}
        self.by_person: dict[uuid.UUID, _Key] = {}
        self.wanted: dict[uuid.UUID, None] = {}  # an ordered set

    def fresh(self) -> bool:
        return (
            self.generation == _generation
            and self.ring == crypto.master_ring_id()
            and time.monotonic() - self.born < getattr(settings, "PERSON_KEY_CACHE_SECONDS", 60)
            and len(self.by_id) < MAX_CACHED
        )

    def keep(self, key: _Key) -> _Key:
        self.by_id[key.id] = key
        self.by_person[key.person_id] = key
        self.wanted.pop(key.id, None)
        return key


def _cache() -> _Cache:
    cache = getattr(_local, "cache", None)
    if cache is None or not cache.fresh():
        cache = _local.cache = _Cache()
    return cache


def clear_cache(*args, **kwargs) -> None:
    """Forget this thread's keys (also a ``request_started`` / ``request_finished`` receiver)."""
    _local.cache = None


def _forget_everywhere() -> None:
    global _generation
    with _generation_lock:
        _generation += 1
    clear_cache()


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# Reading -----------------------------------------------------------------------------------


def want(key_id: uuid.UUID) -> None:
    """A sealed value under ``key_id`` was read: load its key with the next batch."""
    cache = _cache()
    if key_id not in cache.by_id and len(cache.wanted) < MAX_WANTED:
        cache.wanted[key_id] = None


def _load(cache: _Cache, ids: list[uuid.UUID]) -> dict[uuid.UUID, object]:
    """Load these keys in one query; return the destroyed ones' destruction times."""
    from consent.models import PersonKey

    destroyed = {}
    rows = PersonKey.objects.filter(id__in=ids).values_list("id", "person_id", "wrapped_key", "destroyed_at")
    for key_id, person_id, wrapped, destroyed_at in rows:
        if destroyed_at is None:
            cache.keep(_Key(key_id, person_id, wrapped))
        else:
            destroyed[key_id] = destroyed_at
    for key_id in ids:
        cache.wanted.pop(key_id, None)
    return destroyed


def _key_by_id(key_id: uuid.UUID) -> _Key:
    cache = _cache()
    key = cache.by_id.get(key_id)
    if key is None:
        cache.wanted.pop(key_id, None)
        batch = [key_id, *itertools.islice(cache.wanted, BATCH - 1)]
        destroyed = _load(cache, batch)
        key = cache.by_id.get(key_id)
        if key_id in destroyed:
            raise PersonKeyDestroyed("The person's data key was destroyed when they were erased.")
        if key is None:
            raise DecryptionError("A stored value names a data key that does not exist.")
    return key


def unseal(token: str) -> str:
    """The plaintext of a stored value, opened with its person's data key."""
    key = _key_by_id(crypto.key_id_of(token))
    return crypto.unseal(key.fernet(), token)


# Writing -----------------------------------------------------------------------------------


def _key_for_person(person_id) -> _Key:
    from consent.models import PersonKey

    person_id = _as_uuid(person_id)
    cache = _cache()
    key = cache.by_person.get(person_id)
    if key is not None:
        return key
    row = next(
        iter(PersonKey.objects.filter(person_id=person_id).values_list("id", "wrapped_key", "destroyed_at")),
        None,
    )
    if row is None:
        return cache.keep(_create(person_id))
    key_id, wrapped, destroyed_at = row
    if destroyed_at is not None:
        raise PersonKeyDestroyed("The person was erased: nothing about them can be stored any more.")
    return cache.keep(_Key(key_id, person_id, wrapped))


def _create(person_id: uuid.UUID) -> _Key:
    """A new data key for the person. While the person's own row is being inserted the row does
    not exist yet: the foreign key is checked at commit (PostgreSQL ``DEFERRABLE INITIALLY
    DEFERRED``), and ``Person.save`` runs in a transaction for that reason."""
    from consent.models import PersonKey

    data_key = crypto.new_data_key()
    record = PersonKey(person_id=person_id, wrapped_key=crypto.wrap(data_key))
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        # another transaction gave the person a key first: use that one
        row = next(iter(PersonKey.objects.filter(person_id=person_id).values_list("id", "wrapped_key")), None)
        if row is None:
            raise
        return _Key(row[0], person_id, row[1])
    finally:
        redact_query_log()
    key = _Key(record.id, person_id, record.wrapped_key)
    key._fernet = Fernet(data_key)
    return key


def seal(person_id, plaintext: str) -> str:
    """``plaintext`` sealed with the person's data key (made now if the person has none yet)."""
    key = _key_for_person(person_id)
    return crypto.seal(key.fernet(), key.id, plaintext)


# Destroying and re-wrapping ----------------------------------------------------------------


def destroy(person_id) -> None:
    """Crypto-shred the person: overwrite their wrapped key, in the caller's transaction.

    Every copy of their data sealed with it — history rows, the write-ahead log, replicas, backups,
    anything copied out of the database — can no longer be opened, with or without the master
    keys, unless it comes with a copy of this row from before (a physical backup, a WAL archive):
    that copy is wrapped under the master key of its time and dies when that key is retired. The
    row stays as a tombstone, so no new key can be made for the person.
    """
    from consent.models import PersonKey

    person_id = _as_uuid(person_id)
    now = timezone.now()
    destroyed = PersonKey.objects.filter(person_id=person_id, destroyed_at__isnull=True).update(
        wrapped_key=None, destroyed_at=now
    )
    if not destroyed and not PersonKey.objects.filter(person_id=person_id).exists():
        PersonKey.objects.create(person_id=person_id, wrapped_key=None, destroyed_at=now)
    _forget_everywhere()
    transaction.on_commit(_forget_everywhere)


def rewrap_all() -> int:
    """Wrap every live data key under the newest master key; return how many were re-wrapped.

    The data sealed with the keys is not touched: a master-key rotation costs one small row per
    person. Keys already under the newest master key are left alone, so a second run changes nothing.
    """
    from consent.models import PersonKey

    changed, last = 0, None
    while True:
        queryset = PersonKey.objects.filter(destroyed_at__isnull=True).order_by("id")
        if last is not None:
            queryset = queryset.filter(id__gt=last)
        rows = list(queryset.values_list("id", "wrapped_key")[:BATCH])
        if not rows:
            break
        for key_id, wrapped in rows:
            if crypto.is_wrapped_under_newest(wrapped):
                continue
            PersonKey.objects.filter(id=key_id).update(wrapped_key=crypto.rewrap(wrapped))
            changed += 1
        redact_query_log()
        last = rows[-1][0]
    _forget_everywhere()
    return changed


# Keeping wrapped keys out of logs ----------------------------------------------------------


def _redact(sql: str) -> str:
    return _WRAPPED.sub("[wrapped key redacted]", sql)


def redact_query_log() -> None:
    """Take wrapped keys out of ``connection.queries`` (kept while DEBUG or a query capture is on)."""
    if not connection.queries_logged:
        return
    for entry in connection.queries_log:
        sql = entry.get("sql", "")
        if KEY_TABLE in sql and crypto.TOKEN_PREFIX in sql:
            entry["sql"] = _redact(sql)


class RedactWrappedKeys(logging.Filter):
    """On ``django.db.backends``: statements on the key table are logged without their values."""

    def filter(self, record: logging.LogRecord) -> bool:
        sql = getattr(record, "sql", None)
        if isinstance(sql, str) and KEY_TABLE in sql:
            redacted = _redact(sql)
            record.sql, record.params = redacted, "[redacted]"
            if isinstance(record.args, tuple) and len(record.args) == 4:
                record.args = (record.args[0], redacted, "[redacted]", record.args[3])
        return True
