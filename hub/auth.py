"""Signing in: API tokens issued by username + password (+ a TOTP code where one is required), stored
hashed, expiring, revocable (django-rest-knox); account activation; enrolling an authenticator app.

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
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from common.errors import NotAuthenticated, TooManyRequests
from common.serializers import StrictSerializer
from partners import services
from partners.selectors import second_factor_required


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
    otp = serializers.CharField(
        max_length=8,
        required=False,
        allow_blank=True,
        help_text="The current code of your authenticator app (platform admins; anyone who enrolled one)",
    )


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
        otp = serializer.validated_data.pop("otp", "")
        user = authenticate(request, **serializer.validated_data)
        # set by axes when the account or address was locked already (the password was not even
        # checked) or when this failure reached the limit
        if getattr(request, "axes_locked_out", False):
            raise login_locked(request, serializer.validated_data)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Wrong username or password.")
        # the second factor is asked only after the password passed, so it says nothing to a guesser
        if second_factor_required(user):
            if not otp:
                raise NotAuthenticated(
                    "This account needs a one-time code from its authenticator app: send it as `otp` "
                    "(no app enrolled yet? an operator runs `manage.py totp_enrol` with you).",
                    code="otp_required",
                    field="otp",
                )
            if not services.totp_verify(user=user, otp=otp):
                raise NotAuthenticated(
                    "The one-time code is wrong, was already used, or came too soon after a wrong one.",
                    code="otp_invalid",
                    field="otp",
                )
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


class ActivateSerializer(StrictSerializer):
    token = serializers.CharField(max_length=128)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ActivateView(APIView):
    """The activation link's endpoint: the owner of a new account chooses its password."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=ActivateSerializer,
        responses=inline_serializer("ActivatedAccount", {"username": serializers.CharField()}),
        summary="Activate your account: choose its password with the token of the link mailed to you",
    )
    def post(self, request):
        serializer = ActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.account_activate(**serializer.validated_data)
        # the mail carried only the link; the owner learns the username to log in with here
        return Response({"username": user.get_username()})


class TotpSetupView(APIView):
    @extend_schema(
        request=None,
        responses={201: inline_serializer("TotpSetup", {"otpauth_uri": serializers.CharField()})},
        summary="Start enrolling an authenticator app; the otpauth:// URI (the secret) is shown once",
    )
    def post(self, request):
        uri = services.totp_setup(user=request.user)
        return Response({"otpauth_uri": uri}, status=status.HTTP_201_CREATED)


class TotpConfirmSerializer(StrictSerializer):
    otp = serializers.CharField(max_length=8)


class TotpConfirmView(APIView):
    @extend_schema(
        request=TotpConfirmSerializer,
        responses={204: None},
        summary="Confirm the authenticator app with a current code; logins then need a code",
    )
    def post(self, request):
        serializer = TotpConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.totp_confirm(user=request.user, otp=serializer.validated_data["otp"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def authenticate_api_request(django_request):
    """Authenticate a plain Django request (the GraphQL view) with the same tokens as REST.

    Returns the user, or None when no token was sent (session auth may still apply). Raises
    ``AuthenticationFailed`` for a bad, expired or revoked token, or a deactivated user.
    """
    result = TokenAuthentication().authenticate(Request(django_request))
    return result[0] if result else None
