"""GraphQL: the caller's in-app notifications, marking them read, their preferences, and the
unread count on ``viewer``."""

import graphene

from common.connections import CountedConnection, PageArguments, connection_from_queryset
from common.graphql import ServiceMutation
from notifications import services
from notifications.selectors import notification_list_visible, notification_unread_count, preference_for
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
