"""GraphQL: the caller's in-app notifications, marking them read, their preferences, and the
unread count on ``viewer``."""

import graphene
from graphql_relay import to_global_id

from common.connections import CountedConnection, PageArguments, connection_from_queryset
from common.graphql import ServiceMutation
from notifications import services
from notifications.selectors import (
    notification_list_visible,
    notification_unread_count,
    preference_for,
    webhook_delivery_get_visible,
    webhook_delivery_list,
    webhook_endpoint_get_visible,
    webhook_endpoint_list_visible,
)
from partners.schema import PartnerQueries, Viewer


class NotificationType(graphene.ObjectType):
    """A notice: the kind of event, the reference and a link behind authentication; never personal data."""

    class Meta:
        name = "Notification"

    id = graphene.UUID(required=True)
    kind = graphene.String(required=True, description="new_referral, referral_accepted, consent_withdrawn, …")
    reference = graphene.String(required=True, description="The referral's (or record's) reference")
    reason_code = graphene.String(
        required=True, description="A decline reason or outcome code; empty if none"
    )
    link = graphene.String(required=True, description="Path of the record (sign-in required)")
    urgent = graphene.Boolean(required=True, description="Emergency or PSEA")
    created_at = graphene.DateTime(required=True)
    read_at = graphene.DateTime()


class NotificationConnection(CountedConnection):
    class Meta:
        node = NotificationType


class NotificationPreferencesType(graphene.ObjectType):
    class Meta:
        name = "NotificationPreferences"

    language = graphene.String(required=True)
    email_events = graphene.List(graphene.NonNull(graphene.String), required=True)
    sms_events = graphene.List(graphene.NonNull(graphene.String), required=True)
    sms_number = graphene.String(required=True)
    quiet_hours_start = graphene.Time()
    quiet_hours_end = graphene.Time()
    time_zone = graphene.String(required=True)


class ViewerWithNotifications(Viewer):
    class Meta:
        name = "Viewer"

    unread_notifications = graphene.Int(required=True, description="Your unread in-app notifications")

    def resolve_unread_notifications(self, info):
        return notification_unread_count(user=info.context.user)


class NotificationQueries(graphene.ObjectType):
    viewer = graphene.Field(ViewerWithNotifications, required=True, description="The authenticated caller")
    notifications = graphene.Field(
        NotificationConnection,
        required=True,
        first=PageArguments.first,
        after=PageArguments.after,
        unread=graphene.Boolean(description="true: unread only; false: read only; omitted: all"),
        description="Your in-app notifications, newest first",
    )
    notification_preferences = graphene.Field(NotificationPreferencesType, required=True)

    def resolve_viewer(self, info):
        base = PartnerQueries.resolve_viewer(self, info)
        return ViewerWithNotifications(**{name: getattr(base, name) for name in Viewer._meta.fields})

    def resolve_notifications(self, info, first, after=None, unread=None):
        queryset = notification_list_visible(user=info.context.user, unread=unread)
        return connection_from_queryset(NotificationConnection, queryset, first=first, after=after)

    def resolve_notification_preferences(self, info):
        return preference_for(info.context.user)


class MarkNotificationsRead(ServiceMutation):
    """Mark your notifications read: the given ids, or all of them."""

    class Arguments:
        ids = graphene.List(graphene.NonNull(graphene.UUID))
        all = graphene.Boolean(default_value=False)

    marked = graphene.Int()
    unread = graphene.Int()

    @classmethod
    def mutate(cls, root, info, ids=None, all=False):
        user = info.context.user
        marked, errors = cls.perform(
            info, lambda: services.notifications_mark_read(user=user, ids=ids, everything=all)
        )
        if errors:
            return cls(errors=errors)
        return cls(errors=[], marked=marked, unread=notification_unread_count(user=user))


class UpdateNotificationPreferences(ServiceMutation):
    """Change your notification preferences; what is not given stays as it is."""

    class Arguments:
        language = graphene.String()
        email_events = graphene.List(graphene.NonNull(graphene.String))
        sms_events = graphene.List(graphene.NonNull(graphene.String))
        sms_number = graphene.String()
        quiet_hours_start = graphene.Time()
        quiet_hours_end = graphene.Time()
        time_zone = graphene.String()
        clear_quiet_hours = graphene.Boolean(default_value=False)

    preferences = graphene.Field(NotificationPreferencesType)

    @classmethod
    def mutate(cls, root, info, clear_quiet_hours=False, **changes):
        if clear_quiet_hours:
            changes.update(quiet_hours_start=None, quiet_hours_end=None)
        preference, errors = cls.perform(
            info, lambda: services.notification_preferences_update(user=info.context.user, **changes)
        )
        return cls(errors=errors, preferences=preference)


class NotificationMutations(graphene.ObjectType):
    mark_notifications_read = MarkNotificationsRead.Field()
    update_notification_preferences = UpdateNotificationPreferences.Field()


# Webhooks: the organisation's focal point registers its systems' endpoints -------------------


class WebhookEndpointType(graphene.ObjectType):
    """A partner system told of the events it chose, by signed HTTPS requests (docs/graphql.md)."""

    class Meta:
        name = "WebhookEndpoint"

    id = graphene.ID(required=True)
    url = graphene.String(required=True)
    events = graphene.List(graphene.NonNull(graphene.String), required=True)
    is_active = graphene.Boolean(required=True)
    created_at = graphene.DateTime(required=True)
    last_attempt_at = graphene.DateTime()
    last_status = graphene.String(required=True, description="delivered, retrying, dead; empty before any")
    last_error = graphene.String(required=True, description="The last failure's kind: http_500, timeout, …")
    pending_deliveries = graphene.Int(required=True)
    dead_letters = graphene.Int(required=True)
    previous_secret_until = graphene.DateTime(description="Until when the replaced secret still signs")

    def resolve_id(self, info):
        return to_global_id("WebhookEndpoint", str(self.pk))

    def resolve_pending_deliveries(self, info):
        return self.pending_count

    def resolve_dead_letters(self, info):
        return self.dead_count


class WebhookDeliveryType(graphene.ObjectType):
    class Meta:
        name = "WebhookDelivery"

    id = graphene.ID(required=True)
    webhook_id = graphene.String(required=True, description="The webhook-id header")
    kind = graphene.String(required=True)
    status = graphene.String(required=True, description="pending, delivered or dead (a dead letter)")
    attempts = graphene.Int(required=True)
    next_attempt_at = graphene.DateTime()
    retry_until = graphene.DateTime(required=True)
    last_status_code = graphene.Int()
    last_error = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    delivered_at = graphene.DateTime()
    dead_at = graphene.DateTime()
    body = graphene.String(required=True, description="The exact JSON body signed")

    def resolve_id(self, info):
        return to_global_id("WebhookDelivery", str(self.pk))

    def resolve_webhook_id(self, info):
        return self.message_id


class WebhookDeliveryConnection(CountedConnection):
    class Meta:
        node = WebhookDeliveryType


def _visible_endpoint(info, global_id: str, field: str = "id"):
    return ServiceMutation.node_or_error(
        global_id,
        "WebhookEndpoint",
        lambda raw: webhook_endpoint_get_visible(user=info.context.user, endpoint_id=raw),
        code="webhook_not_found",
        field=field,
    )


def _counted(info, endpoint):
    return webhook_endpoint_get_visible(user=info.context.user, endpoint_id=endpoint.pk) if endpoint else None


class WebhookQueries(graphene.ObjectType):
    webhook_endpoints = graphene.List(
        graphene.NonNull(WebhookEndpointType),
        required=True,
        description="Your organisation's webhook endpoints (focal point only)",
    )
    webhook_deliveries = graphene.Field(
        WebhookDeliveryConnection,
        endpoint=graphene.ID(required=True),
        status=graphene.String(description="pending, delivered or dead: dead lists the dead letters"),
        first=PageArguments.first,
        after=PageArguments.after,
        description="An endpoint's deliveries, newest first",
    )

    def resolve_webhook_endpoints(self, info):
        return list(webhook_endpoint_list_visible(user=info.context.user))

    def resolve_webhook_deliveries(self, info, endpoint, first, after=None, status=None):
        found = _visible_endpoint(info, endpoint, field="endpoint")
        queryset = webhook_delivery_list(endpoint=found, status=status)
        return connection_from_queryset(WebhookDeliveryConnection, queryset, first=first, after=after)


class RegisterWebhookEndpoint(ServiceMutation):
    """Register an endpoint for the events chosen (focal point). ``secret`` is shown only now."""

    class Arguments:
        url = graphene.String(required=True)
        events = graphene.List(graphene.NonNull(graphene.String), required=True)

    endpoint = graphene.Field(WebhookEndpointType)
    secret = graphene.String()

    @classmethod
    def mutate(cls, root, info, url, events):
        user = info.context.user
        endpoint, errors = cls.perform(
            info, lambda: services.webhook_endpoint_register(actor=user, url=url, events=events)
        )
        if errors:
            return cls(errors=errors)
        return cls(errors=[], endpoint=_counted(info, endpoint), secret=endpoint.secret)


class UpdateWebhookEndpoint(ServiceMutation):
    """Change an endpoint's URL or events, or pause it (``isActive: false``) and resume it."""

    class Arguments:
        id = graphene.ID(required=True)
        url = graphene.String()
        events = graphene.List(graphene.NonNull(graphene.String))
        is_active = graphene.Boolean()

    endpoint = graphene.Field(WebhookEndpointType)

    @classmethod
    def mutate(cls, root, info, id, **changes):
        endpoint, errors = cls.perform(
            info,
            lambda: services.webhook_endpoint_update(
                actor=info.context.user, endpoint=_visible_endpoint(info, id), **changes
            ),
        )
        return cls(errors=errors, endpoint=_counted(info, endpoint))


class DeleteWebhookEndpoint(ServiceMutation):
    """Delete an endpoint and its deliveries."""

    class Arguments:
        id = graphene.ID(required=True)

    deleted_id = graphene.ID()

    @classmethod
    def mutate(cls, root, info, id):
        def change():
            services.webhook_endpoint_delete(actor=info.context.user, endpoint=_visible_endpoint(info, id))
            return id

        deleted, errors = cls.perform(info, change)
        return cls(errors=errors, deleted_id=deleted)


class RotateWebhookSecret(ServiceMutation):
    """A new signing secret, shown only now; the previous one keeps signing during the grace period."""

    class Arguments:
        id = graphene.ID(required=True)

    endpoint = graphene.Field(WebhookEndpointType)
    secret = graphene.String()

    @classmethod
    def mutate(cls, root, info, id):
        endpoint, errors = cls.perform(
            info,
            lambda: services.webhook_secret_rotate(
                actor=info.context.user, endpoint=_visible_endpoint(info, id)
            ),
        )
        if errors:
            return cls(errors=errors)
        return cls(errors=[], endpoint=_counted(info, endpoint), secret=endpoint.secret)


class ReplayWebhookDelivery(ServiceMutation):
    """Send a dead letter again, with the same webhook-id."""

    class Arguments:
        id = graphene.ID(required=True)

    delivery = graphene.Field(WebhookDeliveryType)

    @classmethod
    def mutate(cls, root, info, id):
        def change():
            delivery = cls.node_or_error(
                id,
                "WebhookDelivery",
                lambda raw: webhook_delivery_get_visible(user=info.context.user, delivery_id=raw),
                code="webhook_delivery_not_found",
            )
            return services.webhook_delivery_replay(actor=info.context.user, delivery=delivery)

        delivery, errors = cls.perform(info, change)
        return cls(errors=errors, delivery=delivery)


class WebhookMutations(graphene.ObjectType):
    register_webhook_endpoint = RegisterWebhookEndpoint.Field()
    update_webhook_endpoint = UpdateWebhookEndpoint.Field()
    delete_webhook_endpoint = DeleteWebhookEndpoint.Field()
    rotate_webhook_secret = RotateWebhookSecret.Field()
    replay_webhook_delivery = ReplayWebhookDelivery.Field()
