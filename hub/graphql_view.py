"""``/graphql``: the partner API, authenticated by the same API tokens as REST."""

from django.conf import settings
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView
from rest_framework.exceptions import AuthenticationFailed

from hub.auth import authenticate_api_request


def _graphql_error(message: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status=status)


@method_decorator(csrf_exempt, name="dispatch")
class HubGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("graphiql", settings.GRAPHIQL_ENABLED)
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            token_user = authenticate_api_request(request)
        except AuthenticationFailed as exc:
            response = _graphql_error(str(exc.detail), "unauthenticated", 401)
            response["WWW-Authenticate"] = "Token"
            return response
        if token_user is not None:
            request.user = token_user
        elif request.user.is_authenticated:
            # session callers (GraphiQL in the browser) get the CSRF protection tokens don't need
            csrf_failure = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if csrf_failure is not None and request.method == "POST":
                return _graphql_error("CSRF check failed.", "csrf_failed", 403)
        if not request.user.is_authenticated or not request.user.is_active:
            response = _graphql_error("Authentication credentials were not provided.", "unauthenticated", 401)
            response["WWW-Authenticate"] = "Token"
            return response
        return super().dispatch(request, *args, **kwargs)
