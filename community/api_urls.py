"""The door's REST endpoints for staff, under /api/v1/ (hub/urls.py)."""

from django.urls import path

from community import api

urlpatterns = [
    path(
        "referrals/<str:referral_id>/status-check-lock",
        api.StatusCheckLockView.as_view(),
        name="referral-status-check-lock",
    ),
    path(
        "referrals/<str:referral_id>/status-check-unlock",
        api.StatusCheckUnlockView.as_view(),
        name="referral-status-check-unlock",
    ),
]
