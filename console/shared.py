"""What every console page shares: the sign-in guard, the one 404 page, the role of the viewer.

Roles come from the same selectors as the APIs (``membership_active``, ``is_platform_admin``): the
console shows a link only as a convenience, every page still asks the services.
"""

from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from notifications.selectors import notification_unread_count
from partners.models import Membership
from partners.selectors import is_platform_admin, membership_active


def sign_in_required(view):
    """Anonymous visitors go to the sign-in page, and come back where they were going."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("console:sign-in"))
        return view(request, *args, **kwargs)

    return wrapped


def not_found(request):
    """Missing, or not the viewer's to see: the same page, the same status, the same words."""
    return render(request, "console/not_found.html", status=404)


@dataclass(frozen=True)
class Viewer:
    membership: Membership | None
    platform_admin: bool

    @property
    def member(self) -> bool:
        return self.membership is not None

    @property
    def focal_point(self) -> bool:
        return self.membership is not None and self.membership.role == Membership.Role.FOCAL_POINT

    @property
    def writer(self) -> bool:
        """May record consent and send referrals for the organisation (a viewer only reads)."""
        return self.membership is not None and self.membership.role != Membership.Role.VIEWER


def viewer_of(request) -> Viewer:
    cached = getattr(request, "_console_viewer", None)
    if cached is None:
        user = request.user
        cached = Viewer(membership=membership_active(user=user), platform_admin=is_platform_admin(user))
        request._console_viewer = cached
    return cached


class _Lazy:
    """Computed when a template first reads it: a page that does not show the header pays nothing."""

    def __init__(self, request):
        self._request = request

    @property
    def viewer(self) -> Viewer:
        return viewer_of(self._request)

    @property
    def unread(self) -> int:
        if not hasattr(self, "_unread"):
            self._unread = notification_unread_count(user=self._request.user)
        return self._unread


def console(request) -> dict:
    """Context processor: ``console.viewer`` and ``console.unread`` for the header."""
    if not request.user.is_authenticated:
        return {}
    return {"console": _Lazy(request)}


def demo_mode(request) -> dict:
    """Context processor: ``demo_mode`` (DEMO_MODE), so the header can point at the persona page."""
    return {"demo_mode": settings.DEMO_MODE}
