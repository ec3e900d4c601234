"""Delivery records and each user's choices. The messages themselves are the outbox rows
(``referrals.Notification``): a reference, a kind, a code and a link, never personal data."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from referrals.models import Notification


def _every_kind() -> list[str]:
    return list(Notification.Kind.values)


class NotificationPreference(models.Model):
    """What one user wants pushed to them, and when. Without a row, the defaults: every event by
    e-mail, nothing by SMS, no quiet hours, the site's language. The in-app inbox lists everything
    whatever is chosen here: it is the record, not a push."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    email_events = ArrayField(models.CharField(max_length=32), default=_every_kind, blank=True)
    sms_events = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    sms_number = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +254700000000")
    # Quiet hours, in ``time_zone``: e-mail and SMS wait until they end, except emergency and PSEA.
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | models.Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="quiet_hours_start_and_end",
            )
        ]

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"


class Delivery(models.Model):
    """One outbox row on one channel: the idempotency record. At most one per (notification,
    channel), so a message is pushed once per channel whatever retries and workers do; its id is
    the idempotency key handed to the provider (e-mail Message-ID, the SMS gateway's key)."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"  # not chosen, no address, recipient inactive
        FAILED = "failed", "Failed"  # the last attempt failed; the job retries

    FINAL = (Status.SENT, Status.SKIPPED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=Status.choices)
    detail = models.CharField(max_length=64, blank=True, help_text="Why skipped, or the last error's kind")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel"),
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False) | ~models.Q(status="sent"),
                name="sent_delivery_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"


class WebhookEndpoint(models.Model):
    """A partner organisation's system, told of the events it chose by signed HTTPS requests.
    Managed by the organisation's focal point; the secret is shown once, when made or rotated."""

    class LastStatus(models.TextChoices):
        NONE = "", "Nothing delivered yet"
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Failed; retrying"
        DEAD = "dead", "Failed; in the dead letters"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("partners.Organisation", on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=500)
    events = ArrayField(models.CharField(max_length=32))
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=64)
    # after a rotation the previous secret signs too, until previous_secret_until
    previous_secret = models.CharField(max_length=64, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, choices=LastStatus.choices, blank=True, default="")
    last_error = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organisation"], name="webhook_endpoint_org_idx")]

    def __str__(self) -> str:
        return f"webhook {self.url}"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body signed, the same ``webhook-id`` on every attempt
    (so the receiver drops a repeat), the retry schedule and where it ended."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead letter"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # the first notice of the event (one event is told to several members): once per endpoint
    event_key = models.UUIDField()
    kind = models.CharField(max_length=32)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "status", "-created_at"], name="webhook_delivery_list_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_key"], name="webhook_delivery_once_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.status}"

    @property
    def message_id(self) -> str:
        return f"msg_{self.pk.hex}"
