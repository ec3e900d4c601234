"""REST: the caller's in-app notifications, marking them read, their preferences, and ``me`` with
the unread count."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from common.serializers import StrictSerializer
from notifications import services
from notifications.selectors import notification_list_visible, notification_unread_count, preference_for
from partners.api import MeSerializer
from partners.api import MeView as PartnersMeView
from referrals.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "reference", "reason_code", "link", "urgent", "created_at", "read_at"]
        read_only_fields = fields


class NotificationListView(ListAPIView):
    serializer_class = NotificationSerializer

    @extend_schema(
        summary="Your in-app notifications, newest first",
        parameters=[OpenApiParameter("unread", bool, description="true: unread only; false: read only")],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        unread = self.request.query_params.get("unread")
        flag = {"true": True, "1": True, "false": False, "0": False}.get((unread or "").lower())
        return notification_list_visible(user=self.request.user, unread=flag)


class MarkReadSerializer(StrictSerializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=500)
    all = serializers.BooleanField(required=False, default=False)


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class NotificationReadView(APIView):
    @extend_schema(request=MarkReadSerializer, responses=MarkedSerializer, summary="Mark notifications read")
    def post(self, request):
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = services.notifications_mark_read(
            user=request.user, ids=body.validated_data.get("ids"), everything=body.validated_data["all"]
        )
        return Response({"marked": marked, "unread": notification_unread_count(user=request.user)})


class PreferenceSerializer(StrictSerializer):
    language = serializers.ChoiceField(choices=[code for code, _ in settings.LANGUAGES], required=False)
    email_events = serializers.ListField(
        child=serializers.ChoiceField(choices=Notification.Kind.choices), required=False, max_length=50
    )
    sms_events = serializers.ListField(
        child=serializers.ChoiceField(choices=Notification.Kind.choices), required=False, max_length=50
    )
    sms_number = serializers.CharField(required=False, allow_blank=True, max_length=16)
    quiet_hours_start = serializers.TimeField(required=False, allow_null=True)
    quiet_hours_end = serializers.TimeField(required=False, allow_null=True)
    time_zone = serializers.CharField(required=False, max_length=64)


def _preference_data(preference) -> dict:
    return {name: getattr(preference, name) for name in services.PREFERENCE_FIELDS}


class PreferenceView(APIView):
    @extend_schema(responses=PreferenceSerializer, summary="Your notification preferences")
    def get(self, request):
        return Response(PreferenceSerializer(_preference_data(preference_for(request.user))).data)

    @extend_schema(
        request=PreferenceSerializer,
        responses=PreferenceSerializer,
        summary="Change your notification preferences",
    )
    def patch(self, request):
        body = PreferenceSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        preference = services.notification_preferences_update(user=request.user, **body.validated_data)
        return Response(PreferenceSerializer(_preference_data(preference)).data)


class MeWithNotificationsSerializer(MeSerializer):
    unread_notifications = serializers.IntegerField()


class MeView(PartnersMeView):
    """``me`` with the caller's unread notification count (partners knows nothing of notifications)."""

    @extend_schema(
        responses=MeWithNotificationsSerializer, summary="The caller: user, organisation, role, unread"
    )
    def get(self, request):
        data = super().get(request).data
        return Response({**data, "unread_notifications": notification_unread_count(user=request.user)})
