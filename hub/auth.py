"""Signing in: API tokens issued by username + password (+ a TOTP code where one is required), stored
hashed, expiring, revocable (django-rest-knox); account activation; enrolling an authenticator app."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from common.errors import NotAuthenticated
from common.serializers import StrictSerializer
from partners import services
from partners.selectors import second_factor_required


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
    )
    def post(self, request, format=None):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        otp = serializer.validated_data.pop("otp", "")
        user = authenticate(request, **serializer.validated_data)
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
