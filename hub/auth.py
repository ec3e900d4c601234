"""API tokens: issued by username + password, stored hashed, expiring, revocable (django-rest-knox)."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


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
        user = authenticate(request, **serializer.validated_data)
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
