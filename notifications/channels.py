"""Delivery channels beside the in-app inbox. A channel decides whether a notice is for it
(``skip_reason``) and pushes it (``send``); ``notification_deliver`` does the rest — one delivery
row per (notice, channel), quiet hours, retries — for every registered channel alike. A new
channel (webhooks) is a class here and one ``register_channel`` call: no caller changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

from notifications import messages, sms
from notifications.models import NotificationPreference
from referrals.models import Notification


@dataclass(frozen=True)
class Notice:
    """One notice on its way to one channel: what to say is in ``notification``; ``key`` (the
    delivery row's id) is the idempotency key handed to the provider."""

    notification: Notification
    recipient: object
    preference: NotificationPreference
    key: str


class Channel:
    name = ""
    quiet_hours = True  # held back during the recipient's quiet hours (emergency and PSEA are not)

    def skip_reason(self, notification: Notification, recipient, preference: NotificationPreference) -> str:
        """Why this notice is not for this channel ("" when it is)."""
        raise NotImplementedError

    def send(self, notice: Notice) -> None:
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def skip_reason(self, notification, recipient, preference) -> str:
        if notification.kind not in preference.email_events:
            return "not_chosen"
        if not recipient.email:
            return "no_address"
        return ""

    def send(self, notice: Notice) -> None:
        subject, body = messages.email_parts(notice.notification, notice.preference.language)
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notice.recipient.email],
            # the delivery's id: a receiving system that sees the same Message-ID twice drops one
            headers={"Message-ID": f"<{notice.key}@{settings.NOTIFICATION_MESSAGE_ID_DOMAIN}>"},
        )
        message.send(fail_silently=False)


class SmsChannel(Channel):
    name = "sms"

    def skip_reason(self, notification, recipient, preference) -> str:
        if notification.kind not in preference.sms_events:
            return "not_chosen"
        if not preference.sms_number:
            return "no_address"
        if not settings.SMS_BACKEND:
            return "no_gateway"
        return ""

    def send(self, notice: Notice) -> None:
        text = messages.sms_text(notice.notification, notice.preference.language)
        sms.gateway().send(notice.preference.sms_number, text, key=notice.key)


_channels: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    _channels[channel.name] = channel
    return channel


def unregister_channel(name: str) -> None:
    _channels.pop(name, None)


def all_channels() -> list[Channel]:
    return list(_channels.values())


register_channel(EmailChannel())
register_channel(SmsChannel())
