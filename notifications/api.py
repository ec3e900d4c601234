"""REST: the caller's in-app notifications, marking them read, their preferences, and ``me`` with
the unread count."""

import json

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import REGISTRY, NotFound
from common.serializers import StrictSerializer
from notifications import services
from notifications.models import WebhookDelivery
from notifications.selectors import (
    notification_list_visible,
    notification_unread_count,
    preference_for,
    webhook_delivery_get_visible,
    webhook_delivery_list,
    webhook_endpoint_get_visible,
    webhook_endpoint_list_visible,
)
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


# Webhooks: the organisation's focal point registers its systems' endpoints -------------------


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status = serializers.CharField(help_text="delivered, retrying, dead, or empty before any attempt")
    last_error = serializers.CharField(help_text="The last failure's kind: http_500, timeout, …")
    pending_deliveries = serializers.IntegerField(source="pending_count")
    dead_letters = serializers.IntegerField(source="dead_count")
    previous_secret_until = serializers.DateTimeField(
        allow_null=True, help_text="Until when the secret replaced by the last rotation still signs"
    )


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="Shown only now: keep it to verify signatures")


class WebhookRegisterSerializer(StrictSerializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Notification.Kind.choices), min_length=1, max_length=50
    )


class WebhookUpdateSerializer(StrictSerializer):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Notification.Kind.choices), required=False, max_length=50
    )
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="message_id", help_text="The webhook-id header")
    event = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "kind",
            "status",
            "attempts",
            "next_attempt_at",
            "retry_until",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
            "dead_at",
            "event",
        ]
        read_only_fields = fields

    def get_event(self, delivery) -> dict:
        return json.loads(delivery.body)


def _endpoint_or_404(request, pk):
    endpoint = webhook_endpoint_get_visible(user=request.user, endpoint_id=pk)
    if endpoint is None:
        raise NotFound(REGISTRY["webhook_not_found"].message, code="webhook_not_found")
    return endpoint


def _endpoint_data(request, endpoint, *, secret: bool = False) -> dict:
    """The endpoint just written, read back with its counts; its secret only when just made."""
    data = WebhookEndpointSerializer(
        webhook_endpoint_get_visible(user=request.user, endpoint_id=endpoint.pk)
    ).data
    if secret:
        data["secret"] = endpoint.secret
    return data


class WebhookListView(APIView):
    @extend_schema(
        responses=WebhookEndpointSerializer(many=True), summary="Your organisation's webhook endpoints"
    )
    def get(self, request):
        endpoints = webhook_endpoint_list_visible(user=request.user)
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        request=WebhookRegisterSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        summary="Register a webhook endpoint (focal point); the answer shows its secret, once",
    )
    def post(self, request):
        body = WebhookRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_register(actor=request.user, **body.validated_data)
        return Response(_endpoint_data(request, endpoint, secret=True), status=201)


class WebhookDetailView(APIView):
    @extend_schema(
        responses=WebhookEndpointSerializer, summary="One webhook endpoint, with its delivery status"
    )
    def get(self, request, pk):
        return Response(WebhookEndpointSerializer(_endpoint_or_404(request, pk)).data)

    @extend_schema(
        request=WebhookUpdateSerializer,
        responses=WebhookEndpointSerializer,
        summary="Change a webhook endpoint's URL or events, or pause it (is_active: false)",
    )
    def patch(self, request, pk):
        endpoint = _endpoint_or_404(request, pk)
        body = WebhookUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            actor=request.user, endpoint=endpoint, **body.validated_data
        )
        return Response(_endpoint_data(request, endpoint))

    @extend_schema(responses={204: None}, summary="Delete a webhook endpoint and its deliveries")
    def delete(self, request, pk):
        services.webhook_endpoint_delete(actor=request.user, endpoint=_endpoint_or_404(request, pk))
        return Response(status=204)


class WebhookRotateSecretView(APIView):
    @extend_schema(
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
        summary="A new signing secret, shown once; the previous one keeps signing during the grace period",
    )
    def post(self, request, pk):
        endpoint = services.webhook_secret_rotate(actor=request.user, endpoint=_endpoint_or_404(request, pk))
        return Response(_endpoint_data(request, endpoint, secret=True))


class WebhookDeliveryListView(ListAPIView):
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        summary="An endpoint's deliveries, newest first; status=dead lists its dead letters",
        parameters=[OpenApiParameter("status", str, enum=list(WebhookDelivery.Status.values))],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, with no endpoint
            return WebhookDelivery.objects.none()
        endpoint = _endpoint_or_404(self.request, self.kwargs["pk"])
        status = self.request.query_params.get("status") or None
        return webhook_delivery_list(endpoint=endpoint, status=status)


class WebhookDeliveryReplayView(APIView):
    @extend_schema(request=None, responses=WebhookDeliverySerializer, summary="Send a dead letter again")
    def post(self, request, pk):
        delivery = webhook_delivery_get_visible(user=request.user, delivery_id=pk)
        if delivery is None:
            raise NotFound(REGISTRY["webhook_delivery_not_found"].message, code="webhook_delivery_not_found")
        delivery = services.webhook_delivery_replay(actor=request.user, delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data)
