"""Delivering notices, reading them, and choosing what reaches you.

A notice is written to the outbox (``referrals.outbox``) in the transaction of the change it tells
of; ``on_outbox_written`` defers its delivery job in that same transaction. The job calls
``notification_deliver``, which pushes it on every registered channel the recipient chose, once
per channel: a delivery row per (notice, channel) under a unique constraint is written in the
same transaction as the send is recorded, and the row is locked while sending, so a retried job,
a second worker or a job run again after its worker was killed finds the channel done and skips
it. ``Notification.sent_at`` is set once, when every channel is done.
"""

from __future__ import annotations

import os
import re
import time
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import ServiceError
from notifications import channels
from notifications.jobs import deliveries_defer
from notifications.models import Delivery, NotificationPreference
from notifications.selectors import notification_list_visible, preference_for, recipient_is_active
from referrals.models import Notification

# Test-only: a path. A worker started with it set writes the path when it is about to push a notice
# and then blocks, so that a test can kill it in the middle of a delivery. Never set in production.
BLOCK_DELIVERY_ENV = "HUB_TEST_BLOCK_DELIVERY_AT"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def on_outbox_written(*, notifications) -> None:
    """The outbox handler: each new notice gets its delivery job, in the writer's transaction."""
    deliveries_defer(notification.pk for notification in notifications)


# Delivering --------------------------------------------------------------------------------


def quiet_until(preference: NotificationPreference, now: datetime) -> datetime | None:
    """When the recipient's quiet hours end, if ``now`` falls inside them; else None."""
    start, end = preference.quiet_hours_start, preference.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zoneinfo.ZoneInfo(preference.time_zone))
    moment = local.time()
    inside = start <= moment < end if start < end else (moment >= start or moment < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def _test_block_point() -> None:
    path = os.environ.get(BLOCK_DELIVERY_ENV)
    if not path:
        return
    Path(path).write_text(str(os.getpid()))
    while True:  # until the test kills this worker
        time.sleep(1)


def _skip(notification: Notification, channel: channels.Channel, reason: str) -> None:
    Delivery.objects.bulk_create(
        [
            Delivery(
                notification=notification, channel=channel.name, status=Delivery.Status.SKIPPED, detail=reason
            )
        ],
        ignore_conflicts=True,  # another run recorded it first: the same decision
    )


def _send_once(notification: Notification, channel: channels.Channel, preference) -> None:
    """Push on one channel unless that is done; the send and its record commit together."""
    failure = None
    with transaction.atomic():
        # the row exists (inserted here, or by a run before) and is locked: a second run of this
        # job waits here, then finds the channel done
        Delivery.objects.bulk_create(
            [Delivery(notification=notification, channel=channel.name, status=Delivery.Status.FAILED)],
            ignore_conflicts=True,
        )
        delivery = Delivery.objects.select_for_update().get(notification=notification, channel=channel.name)
        if delivery.status in Delivery.FINAL:
            return
        delivery.attempts += 1
        _test_block_point()
        notice = channels.Notice(
            notification=notification,
            recipient=notification.recipient,
            preference=preference,
            key=str(delivery.pk),
        )
        try:
            channel.send(notice)
        except Exception as error:
            failure = error
            delivery.status, delivery.detail = Delivery.Status.FAILED, type(error).__name__[:64]
        else:
            delivery.status, delivery.detail, delivery.sent_at = Delivery.Status.SENT, "", timezone.now()
        delivery.save(update_fields=["status", "detail", "attempts", "sent_at"])
    if failure is not None:
        raise failure


def notification_deliver(*, notification_id, now: datetime | None = None) -> datetime | None:
    """Push one notice on each registered channel its recipient chose. Returns when to try again
    (a channel held back by quiet hours), or None when every channel is done. Safe to run twice,
    or concurrently: each channel is pushed once."""
    now = now or timezone.now()
    notification = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if notification is None or notification.sent_at is not None:
        return None
    preference = preference_for(notification.recipient)
    active = recipient_is_active(notification)
    done = set(
        Delivery.objects.filter(notification=notification, status__in=Delivery.FINAL).values_list(
            "channel", flat=True
        )
    )
    held_until = None
    for channel in channels.all_channels():
        if channel.name in done:
            continue
        reason = (
            "inactive"
            if not active
            else channel.skip_reason(notification, notification.recipient, preference)
        )
        if reason:
            _skip(notification, channel, reason)
            continue
        if channel.quiet_hours and not notification.urgent and (until := quiet_until(preference, now)):
            held_until = min(held_until, until) if held_until else until
            continue
        _send_once(notification, channel, preference)
    if held_until is None:
        Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(sent_at=timezone.now())
    return held_until


# The inbox ---------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user, ids=None, everything: bool = False) -> int:
    """Mark the caller's own notices read: the given ids, or all. An id that is not one of the
    caller's notices is ignored, exactly like one that does not exist."""
    queryset = notification_list_visible(user=user, unread=True)
    if not everything:
        if not ids:
            raise ServiceError(
                "Give the ids of the notifications to mark read, or all.", code="invalid", field="ids"
            )
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())


# Preferences -------------------------------------------------------------------------------

PREFERENCE_FIELDS = (
    "language",
    "email_events",
    "sms_events",
    "sms_number",
    "quiet_hours_start",
    "quiet_hours_end",
    "time_zone",
)


def _check_events(value, field: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(kind, str) for kind in value):
        raise ServiceError("A list of event kinds.", code="invalid", field=field)
    unknown = sorted(set(value) - set(Notification.Kind.values))
    if unknown:
        raise ServiceError(
            f"Unknown event kinds: {', '.join(unknown)}; one of {', '.join(Notification.Kind.values)}.",
            code="invalid",
            field=field,
        )
    return list(dict.fromkeys(value))


@transaction.atomic
def notification_preferences_update(*, user, **changes) -> NotificationPreference:
    """Change one's own choices: events per channel, the SMS number, quiet hours, language."""
    if unexpected := set(changes) - set(PREFERENCE_FIELDS):
        raise ServiceError(f"Unknown fields: {', '.join(sorted(unexpected))}.", code="invalid")
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user_id=user.pk)
    for name, value in changes.items():
        setattr(preference, name, value)
    if preference.language not in dict(settings.LANGUAGES):
        raise ServiceError(
            f"The language must be one of {', '.join(dict(settings.LANGUAGES))}.",
            code="invalid",
            field="language",
        )
    preference.email_events = _check_events(preference.email_events, "email_events")
    preference.sms_events = _check_events(preference.sms_events, "sms_events")
    preference.sms_number = (preference.sms_number or "").replace(" ", "")
    if preference.sms_number and not E164.match(preference.sms_number):
        raise ServiceError(
            "The SMS number must be in international form, e.g. +254700000000.",
            code="invalid",
            field="sms_number",
        )
    if preference.time_zone not in zoneinfo.available_timezones():
        raise ServiceError("Unknown time zone, e.g. Africa/Nairobi.", code="invalid", field="time_zone")
    if (preference.quiet_hours_start is None) != (preference.quiet_hours_end is None):
        raise ServiceError(
            "Quiet hours need both a start and an end.", code="invalid", field="quiet_hours_start"
        )
    preference.save()
    return preference
