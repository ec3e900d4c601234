"""The door's REST endpoints for staff, under /api/v1/ (hub/urls.py)."""

from django.urls import path

from community import api

urlpatterns = [
    path(
        "referrals/<str:pk>/status-check-lock",
        api.StatusCheckLockView.as_view(),
        name="referral-status-check-lock",
    ),
    path(
        "referrals/<str:pk>/status-check-unlock",
        api.StatusCheckUnlockView.as_view(),
        name="referral-status-check-unlock",
    ),
]
