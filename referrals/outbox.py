"""The outbox: the one way a notice is written, and the one place a delivery layer hooks in.

``referrals`` writes the notices of its transitions here, and the apps above it write their
reminders here (consent expiry, requests due). Rows are inserted in the caller's transaction; each
registered handler then runs with the rows just written, in that same transaction. The
notifications app registers the handler that defers their delivery jobs (``NotificationsConfig``):
a delivery job is committed together with the change that caused it, or neither is. ``referrals``
knows nothing of channels: e-mail, SMS and webhooks are added beside each other up there.

A handler is ``handler(*, notifications)`` and must not raise for a row it cannot deliver; if it
raises, the change is rolled back with its notices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from referrals.models import Notification

_handlers: list[Callable] = []


def register_outbox_handler(handler: Callable) -> Callable:
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def unregister_outbox_handler(handler: Callable) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def outbox_write(rows: Iterable[Notification]) -> list[Notification]:
    """Insert notices (one statement) and hand them to the delivery handlers. A reminder
    (``Notification.ONCE_KINDS``) that its recipient already had about the same record is left out:
    the database's unique constraint decides, so two runs racing each other still tell once."""
    rows = list(rows)
    if not rows:
        return []
    if any(row.kind in Notification.ONCE_KINDS for row in rows):
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        # ids are made here (uuid4), so the rows found under them are exactly the ones inserted
        written = set(
            Notification.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True)
        )
        rows = [row for row in rows if row.pk in written]
    else:
        Notification.objects.bulk_create(rows)
    for handler in list(_handlers):
        handler(notifications=rows)
    return rows
