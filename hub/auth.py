"""API tokens: issued by username + password, stored hashed, expiring, revocable (django-rest-knox).

Failed logins are limited per account and per client address by django-axes (settings ``AXES_*``,
docs/operations.md); this module gives axes the client address and the admin's lockout page, and
turns a lockout on the token login into the API's JSON error.
"""

import ipaddress
import math
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from common.errors import TooManyRequests


def client_address(request) -> str | None:
    """The caller's address, by the trusted-proxy rule of DRF's throttles (``NUM_PROXIES``).

    With no proxies it is REMOTE_ADDR and X-Forwarded-For is ignored: any client can write that
    header. With N proxies it is the N-th entry from the right of X-Forwarded-For, the one the
    outermost trusted proxy appended; entries further left are the client's own and never used.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not what a proxy writes: a misconfigured NUM_PROXIES
        return remote


def lockout_ends(request, credentials: dict) -> datetime:
    """When the lock on this account or address lifts by itself: the latest failure that still counts
    plus the cool-off (``AXES_COOLOFF_TIME``). Never earlier than the true moment, and it holds:
    attempts during a lockout are not counted (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``).
    """
    counted = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    latest = [at for attempts in counted if (at := attempts.aggregate(at=Max("attempt_time"))["at"])]
    return (max(latest) if latest else timezone.now()) + get_cool_off(request)


def _lockout_text(ends: datetime) -> tuple[str, int]:
    """The message a locked-out person reads, and the seconds until they may retry."""
    seconds = max(0, math.ceil((ends - timezone.now()).total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    shown = (ends + timedelta(seconds=59)).replace(second=0, microsecond=0)  # never earlier than `ends`
    return (
        "Too many failed logins for this account or from this address: login is locked until "
        f"{shown:%Y-%m-%d %H:%M} UTC (in {minutes} minute{'s' if minutes != 1 else ''}); try again then, "
        "or ask your focal point or a platform admin to unlock your account.",
        seconds,
    )


def login_locked(request, credentials: dict) -> TooManyRequests:
    """The token login's answer to a locked account or address: 429 ``login_locked``."""
    message, seconds = _lockout_text(lockout_ends(request, credentials))
    return TooManyRequests(message, code="login_locked", extra={"retry_after": seconds})


def lockout_page(request, original_response, credentials):
    """The admin login's answer to a locked account or address (axes' ``AXES_LOCKOUT_CALLABLE``)."""
    message, seconds = _lockout_text(lockout_ends(request, credentials or {}))
    response = render(request, "hub/login_locked.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginThrottle(AnonRateThrottle):
    rate = "20/min"

    def get_ident(self, request):
        return client_address(request)


class LoginView(KnoxLoginView):
    """Exchange username and password for a token. The token is shown once; only its hash is stored."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    def get_authenticate_header(self, request):
        return "Token"  # a failed login is a 401, as for any other bad credential

    @extend_schema(
        request=LoginSerializer,
        responses=inline_serializer(
            "TokenResponse", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
        ),
        summary="Get an API token",
        description="Too many failed logins for the account or from the client address lock the login "
        "(429 `login_locked`, with Retry-After) until the cool-off ends or a focal point unlocks it.",
    )
    def post(self, request, format=None):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        # set by axes when the account or address was locked already (the password was not even
        # checked) or when this failure reached the limit
        if getattr(request, "axes_locked_out", False):
            raise login_locked(request, serializer.validated_data)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Wrong username or password.")
        request.user = user
        return super().post(request, format=format)

    def get_post_response_data(self, request, token, instance):
        return {"token": token, "expiry": self.format_expiry_datetime(instance.expiry)}


@extend_schema(request=None, responses={204: None}, summary="Revoke the token used for this request")
class LogoutView(KnoxLogoutView):
    pass


@extend_schema(request=None, responses={204: None}, summary="Revoke every token of the caller")
class LogoutAllView(KnoxLogoutAllView):
    pass


def authenticate_api_request(django_request):
    """Authenticate a plain Django request (the GraphQL view) with the same tokens as REST.

    Returns the user, or None when no token was sent (session auth may still apply). Raises
    ``AuthenticationFailed`` for a bad, expired or revoked token, or a deactivated user.
    """
    result = TokenAuthentication().authenticate(Request(django_request))
    return result[0] if result else None
