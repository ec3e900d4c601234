"""Reads of notices and preferences, scoped to the caller."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from common.errors import PermissionDenied, ServiceError
from notifications.models import NotificationPreference, WebhookDelivery, WebhookEndpoint
from partners.models import Membership
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


# Webhooks: the organisation's focal point only -----------------------------------------------


def _refuse_not_focal_point() -> None:
    raise PermissionDenied(
        "Only the organisation's focal point may manage its webhooks.",
        code="focal_point_of_organisation_required",
    )


def _with_counts(queryset: QuerySet[WebhookEndpoint]) -> QuerySet[WebhookEndpoint]:
    """Each endpoint with its pending and dead-letter counts, in the same query."""
    return queryset.annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
        dead_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.DEAD)),
    )


def webhook_endpoint_list_visible(*, user) -> QuerySet[WebhookEndpoint]:
    """The endpoints of the organisation the caller is the active focal point of (anyone else: 403)."""
    membership = membership_active(user=user)
    if membership is None or membership.role != Membership.Role.FOCAL_POINT:
        _refuse_not_focal_point()
    return _with_counts(WebhookEndpoint.objects.filter(organisation_id=membership.organisation_id)).order_by(
        "created_at", "id"
    )


def webhook_endpoint_get_visible(*, user, endpoint_id) -> WebhookEndpoint | None:
    """One endpoint of the caller's organisation (None for another organisation's, exactly like an
    unknown id); a member of the organisation who is not its focal point is refused (403)."""
    membership = membership_active(user=user)
    if membership is None:
        return None
    endpoint = (
        _with_counts(WebhookEndpoint.objects.all())
        .filter(organisation_id=membership.organisation_id, pk=endpoint_id)
        .first()
    )
    if endpoint is not None and membership.role != Membership.Role.FOCAL_POINT:
        _refuse_not_focal_point()
    return endpoint


def webhook_delivery_get_visible(*, user, delivery_id) -> WebhookDelivery | None:
    membership = membership_active(user=user)
    if membership is None:
        return None
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(endpoint__organisation_id=membership.organisation_id, pk=delivery_id)
        .first()
    )
    if delivery is not None and membership.role != Membership.Role.FOCAL_POINT:
        _refuse_not_focal_point()
    return delivery


def webhook_delivery_list(
    *, endpoint: WebhookEndpoint, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first; ``status="dead"`` is its dead-letter list."""
    if status is not None and status not in WebhookDelivery.Status.values:
        raise ServiceError(
            f"The status is one of {', '.join(WebhookDelivery.Status.values)}.",
            code="invalid",
            field="status",
        )
    queryset = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")
