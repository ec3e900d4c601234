from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications", api.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read", api.NotificationReadView.as_view(), name="notification-read"),
    path("me/notification-preferences", api.PreferenceView.as_view(), name="notification-preferences"),
    path("webhooks", api.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<uuid:pk>", api.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<uuid:pk>/rotate-secret",
        api.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path("webhooks/<uuid:pk>/deliveries", api.WebhookDeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        "webhook-deliveries/<uuid:pk>/replay",
        api.WebhookDeliveryReplayView.as_view(),
        name="webhook-delivery-replay",
    ),
]
