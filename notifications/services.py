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

import json
import os
import re
import time
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import Conflict, PermissionDenied, ServiceError
from notifications import channels, messages, webhooks
from notifications.jobs import deliveries_defer, webhook_attempts_defer
from notifications.models import Delivery, NotificationPreference, WebhookDelivery, WebhookEndpoint
from notifications.selectors import (
    notification_list_visible,
    preference_for,
    recipient_is_active,
    webhook_endpoint_list_visible,
)
from partners.models import Membership
from partners.selectors import membership_active
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


# Webhooks ----------------------------------------------------------------------------------
# A notice is one message to one member; a webhook tells an organisation's system. So webhooks are
# a second outbox handler beside the channels: the notices one change writes are grouped per
# (organisation, kind, record), and each group is one event for each of that organisation's active
# endpoints that chose its kind, whatever number of members were told.


def _webhook_body(notification: Notification) -> str:
    """What an event says: its type, when, the record's id and reference and a link — never a
    payload field: the partner fetches the referral through GraphQL, which logs the read."""
    data = {
        "referral_id": str(notification.referral_id) if notification.referral_id else None,
        "record_id": str(notification.subject_id) if notification.subject_id else None,
        "reference": notification.reference,
        "link": messages.absolute_link(notification),
        "urgent": notification.urgent,
    }
    if notification.reason_code:
        data["code"] = notification.reason_code  # a closed-list code (a decline reason, an outcome)
    body = {"type": notification.kind, "timestamp": notification.created_at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def webhooks_on_outbox_written(*, notifications) -> None:
    """The outbox handler for webhooks: one delivery per (event, endpoint that chose it), written
    and its first attempt deferred in the writer's transaction."""
    events: dict[tuple, Notification] = {}
    for notification in notifications:
        if notification.organisation_id is None:
            continue
        key = (
            notification.organisation_id,
            notification.kind,
            notification.referral_id,
            notification.subject_id,
        )
        events.setdefault(key, notification)
    if not events:
        return
    endpoints = list(
        WebhookEndpoint.objects.filter(
            organisation_id__in={key[0] for key in events}, is_active=True, organisation__is_active=True
        ).only("id", "organisation_id", "events")
    )
    if not endpoints:
        return
    now = timezone.now()
    retry_for = timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)
    rows = [
        WebhookDelivery(
            endpoint_id=endpoint.pk,
            event_key=notification.pk,
            kind=notification.kind,
            body=_webhook_body(notification),
            next_attempt_at=now,
            retry_until=now + retry_for,
            created_at=now,
        )
        for (organisation_id, kind, _, _), notification in events.items()
        for endpoint in endpoints
        if endpoint.organisation_id == organisation_id and kind in endpoint.events
    ]
    written = WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    webhook_attempts_defer(row.pk for row in written)


def _signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    current = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        current.append(endpoint.previous_secret)
    return current


def webhook_delivery_attempt(*, delivery_id, now: datetime | None = None) -> datetime | None:
    """Make one attempt of a pending delivery. Returns when the next attempt is scheduled (its job is
    deferred here, in the same transaction), or None when the delivery is over (delivered, or a dead
    letter). The row stays locked during the request: a second worker waits, then finds it done."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        endpoint = delivery.endpoint
        delivery.attempts += 1
        if not endpoint.is_active:
            attempt = webhooks.Attempt(delivered=False, retryable=False, error="endpoint_inactive")
        else:
            timestamp = int(now.timestamp())
            body = delivery.body.encode()
            headers = {
                "webhook-id": delivery.message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": webhooks.signature_header(
                    _signing_secrets(endpoint, now), delivery.message_id, timestamp, body
                ),
            }
            attempt = webhooks.post(
                endpoint.url,
                headers=headers,
                body=body,
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK,
            )
        delivery.last_status_code, delivery.last_error = attempt.status_code, attempt.error
        next_at = None
        if attempt.delivered:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                WebhookDelivery.Status.DELIVERED,
                now,
                None,
            )
            endpoint_status = WebhookEndpoint.LastStatus.DELIVERED
        else:
            if attempt.retryable:
                delay = webhooks.retry_delay(
                    delivery.attempts,
                    base=settings.WEBHOOK_RETRY_BASE_SECONDS,
                    cap=settings.WEBHOOK_RETRY_MAX_SECONDS,
                    jitter=settings.WEBHOOK_RETRY_JITTER,
                    seed=str(delivery.pk),
                )
                next_at = now + timedelta(seconds=delay)
                if next_at > delivery.retry_until:
                    next_at = None
            if next_at is None:
                delivery.status, delivery.dead_at = WebhookDelivery.Status.DEAD, now
                endpoint_status = WebhookEndpoint.LastStatus.DEAD
            else:
                endpoint_status = WebhookEndpoint.LastStatus.RETRYING
            delivery.next_attempt_at = next_at
        delivery.save()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            last_attempt_at=now, last_status=endpoint_status, last_error=attempt.error
        )
        if next_at is not None:
            webhook_attempts_defer([delivery.pk], schedule_at=next_at)
    return next_at


def _require_webhook_manager(actor, organisation_id) -> None:
    """Only the organisation's active focal point manages its endpoints and dead letters."""
    membership = membership_active(user=actor)
    if (
        membership is None
        or membership.organisation_id != organisation_id
        or membership.role != Membership.Role.FOCAL_POINT
    ):
        raise PermissionDenied(
            "Only the organisation's focal point may manage its webhooks.",
            code="focal_point_of_organisation_required",
        )


def _webhook_fields(*, url=None, events=None) -> dict:
    changes = {}
    if url is not None:
        url = url.strip() if isinstance(url, str) else url
        problem = webhooks.url_problem(url, allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
        if problem:
            raise ServiceError(problem, code="webhook_url_invalid", field="url")
        changes["url"] = url
    if events is not None:
        events = _check_events(events, "events")
        if not events:
            raise ServiceError("Choose at least one event kind.", code="invalid", field="events")
        changes["events"] = events
    return changes


@transaction.atomic
def webhook_endpoint_register(*, actor, url: str, events) -> WebhookEndpoint:
    """The focal point registers an endpoint for the events it chose. The returned endpoint's
    ``secret`` is the only time it is shown."""
    webhook_endpoint_list_visible(user=actor)  # the focal point check
    fields = _webhook_fields(url=url, events=events)
    if "url" not in fields or "events" not in fields:
        field = "url" if "url" not in fields else "events"
        raise ServiceError(f"Give the endpoint's {field}.", code="invalid", field=field)
    endpoint = WebhookEndpoint(
        organisation_id=membership_active(user=actor).organisation_id, secret=webhooks.secret_new(), **fields
    )
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, actor, endpoint: WebhookEndpoint, url=None, events=None, is_active: bool | None = None
) -> WebhookEndpoint:
    """Change the URL, the events, or pause and resume the endpoint (``is_active``)."""
    _require_webhook_manager(actor, endpoint.organisation_id)
    changes = _webhook_fields(url=url, events=events)
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    """Forget the endpoint and its deliveries: no attempt goes out after this."""
    _require_webhook_manager(actor, endpoint.organisation_id)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


@transaction.atomic
def webhook_secret_rotate(
    *, actor, endpoint: WebhookEndpoint, now: datetime | None = None
) -> WebhookEndpoint:
    """A new secret, shown once; the one it replaces keeps signing beside it for
    WEBHOOK_SECRET_GRACE_SECONDS, so the partner can switch without losing a delivery."""
    _require_webhook_manager(actor, endpoint.organisation_id)
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + timedelta(seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS)
    endpoint.secret = webhooks.secret_new()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_delivery_replay(
    *, actor, delivery: WebhookDelivery, now: datetime | None = None
) -> WebhookDelivery:
    """Send a dead letter again, with the same ``webhook-id`` (a receiver that did get it drops the
    repeat) and a fresh retry period."""
    _require_webhook_manager(actor, delivery.endpoint.organisation_id)
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != WebhookDelivery.Status.DEAD:
        raise Conflict("Only a dead letter can be replayed.", code="webhook_delivery_not_dead", field="id")
    delivery.status, delivery.dead_at, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, None, now
    delivery.retry_until = now + timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)
    delivery.save()
    webhook_attempts_defer([delivery.pk])
    return delivery
