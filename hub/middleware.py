"""Request checks and response headers that hold for every URL, whichever view answers."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import patch_cache_control

from common.limits import bad_character
from hub.errors import error_body

GRAPHQL_PATH = "/graphql"
# every response under these may carry personal data (or a login form, or a token)
NO_STORE_PREFIXES = ("/api/", "/graphql", "/admin/", "/console/", "/check/")
# multipart bodies stay unread here: reading them consumes the stream a view's parser needs
_FORM_TYPE = "application/x-www-form-urlencoded"


def _refusal(request, status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    """The error in the shape of the API that was called."""
    if request.path_info == GRAPHQL_PATH:
        body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    else:
        body = error_body(code, message, {field: [message]} if field else {})
    return JsonResponse(body, status=status)


class RequestLimitsMiddleware:
    """Refuses, before a view runs, what would otherwise end in an internal error deep below.

    * a body over the size limit (``GRAPHQL_MAX_BODY_BYTES`` for ``/graphql``, else
      ``DATA_UPLOAD_MAX_MEMORY_SIZE``): 413, judged on ``Content-Length``. Django itself raises
      ``RequestDataTooBig`` only for ``request.body``, which DRF's parsers never touch.
    * NUL characters (PostgreSQL text cannot hold them) in the path, the query string, a header or
      an urlencoded form field (the admin's): 400 ``invalid_characters``. Unpaired surrogates cannot
      arrive here: Django decodes URLs and forms with replacement. JSON bodies are checked by their parsers
      (``hub.parsers``, ``hub.graphql_view``), where escapes such as ``\\u0000`` are decoded.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self._refusal(request) or self.get_response(request)

    def _refusal(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        if not raw_length.isdigit():
            return _refusal(request, 400, "invalid", "Content-Length is not a number.")
        if request.path_info == GRAPHQL_PATH:
            limit = settings.GRAPHQL_MAX_BODY_BYTES
        else:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and int(raw_length) > limit:
            return _refusal(request, 413, "request_too_large", f"Request body over {limit} bytes.")
        for where, field, text in self._texts(request):
            if (problem := bad_character(text)) is not None:
                return _refusal(request, 400, "invalid_characters", f"{where} holds {problem}.", field)
        return None

    @staticmethod
    def _texts(request):
        yield "The path", None, request.path_info
        for name, values in request.GET.lists():
            yield "The query string", None, name
            for value in values:
                yield f"The query parameter {name!r}", name, value
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str):
                yield f"The header {key[5:].replace('_', '-').title()}", None, value
        if request.method == "POST" and request.content_type == _FORM_TYPE:
            for name, values in request.POST.lists():
                yield "A form field name", None, name
                for value in values:
                    yield f"The form field {name!r}", name, value


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every API and admin response: none may be kept by a browser
    or a proxy, since any of them may hold personal data. Static files are served before this
    (WhiteNoise) and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(NO_STORE_PREFIXES):
            patch_cache_control(response, no_store=True)
        return response
