"""Reads of notices and preferences, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import NotificationPreference
from partners.selectors import membership_active
from referrals.models import Notification


def notification_list_visible(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    """The caller's own notices, newest first, told to them as a member of the organisation they
    are an active member of now: a member who left, or was deactivated, has none."""
    membership = membership_active(user=user)
    if membership is None or not user.is_active:
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient=user, organisation_id=membership.organisation_id)
    if unread is not None:
        queryset = queryset.filter(read_at__isnull=unread)
    return queryset.order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    return notification_list_visible(user=user, unread=True).count()


def preference_for(user) -> NotificationPreference:
    """The user's choices, or the defaults (unsaved) when they never chose."""
    preference = NotificationPreference.objects.filter(user_id=user.pk).first()
    return preference or NotificationPreference(user_id=user.pk)


def recipient_is_active(notification: Notification) -> bool:
    """Whether the recipient may still receive this notice: an active account, and an active
    membership of the organisation the notice was written for."""
    recipient = notification.recipient
    if not recipient.is_active:
        return False
    membership = membership_active(user=recipient)
    return membership is not None and membership.organisation_id == notification.organisation_id
