"""Signing in: API tokens issued by username + password (+ a TOTP code where one is required), stored
hashed, expiring, revocable (django-rest-knox); account activation; enrolling an authenticator app.

Failed logins are limited per account and per client address by django-axes (settings ``AXES_*``,
docs/operations.md); this module gives axes the client address and the admin's lockout page. The
sign-in sequence itself (password, lockout, second factor) is ``partners.signin.credentials_check``,
shared with the console.
"""

import ipaddress

from django.shortcuts import render
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from common.serializers import StrictSerializer
from partners import services
from partners.signin import credentials_check, lockout_ends, lockout_text


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


def lockout_page(request, original_response, credentials):
    """The admin login's answer to a locked account or address (axes' ``AXES_LOCKOUT_CALLABLE``).

    A page that answered the lockout itself (the console's sign-in: 429, in the reader's language)
    is kept as it is."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    message, seconds = lockout_text(lockout_ends(request, credentials or {}))
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
        request.user = credentials_check(request, **serializer.validated_data)
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
