from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from hub.auth import ActivateView, LoginView, LogoutAllView, LogoutView, TotpConfirmView, TotpSetupView
from hub.graphql_view import HubGraphQLView
from notifications.api import MeView

ROOT_LINKS = ("v1", "login", "schema", "docs", "graphql")


@extend_schema(
    responses=inline_serializer("ApiRoot", {name: serializers.URLField() for name in ROOT_LINKS}),
    summary="Where things are",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request):
    """Where things are."""
    return Response(
        {
            "v1": request.build_absolute_uri("/api/v1/"),
            "login": reverse("login", request=request),
            "schema": reverse("schema", request=request),
            "docs": reverse("swagger-ui", request=request),
            "graphql": request.build_absolute_uri("/graphql"),
        }
    )


def bad_request(request, exception=None):
    # what Django refuses before a view runs (a disallowed host, a malformed multipart body, too many
    # fields) answers in the API's error shape, not as Django's HTML page
    return JsonResponse(
        {"error": {"code": "invalid", "message": "Bad request.", "fields": {}}},
        status=400,
    )


def not_found(request, exception=None):
    return JsonResponse({"error": {"code": "not_found", "message": "Not found.", "fields": {}}}, status=404)


def server_error(request):
    return JsonResponse(
        {"error": {"code": "server_error", "message": "Internal error; it has been logged.", "fields": {}}},
        status=500,
    )


handler400 = bad_request
handler404 = not_found
handler500 = server_error

api_v1 = [
    path("me", MeView.as_view(), name="me"),
    path("auth/login", LoginView.as_view(), name="login"),
    path("auth/logout", LogoutView.as_view(), name="logout"),
    path("auth/logoutall", LogoutAllView.as_view(), name="logoutall"),
    path("auth/activate", ActivateView.as_view(), name="activate"),
    path("auth/totp/setup", TotpSetupView.as_view(), name="totp-setup"),
    path("auth/totp/confirm", TotpConfirmView.as_view(), name="totp-confirm"),
    path("", include("partners.urls")),
    path("", include("consent.urls")),
    path("", include("pathways.urls")),
    path("", include("referrals.urls")),
    path("", include("notifications.urls")),
    path("", include("community.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api_root, name="api-root"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script from ?script, so the page needs no inline script
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("graphql", HubGraphQLView.as_view(), name="graphql"),
    path("hsds/", include("partners.hsds.urls")),
    path("console/", include("console.urls")),
    path("check/", include("community.urls")),
]
