from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications", api.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read", api.NotificationReadView.as_view(), name="notification-read"),
    path("me/notification-preferences", api.PreferenceView.as_view(), name="notification-preferences"),
]
