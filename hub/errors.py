"""One JSON error shape for the whole REST API.

``{"error": {"code": "...", "message": "...", "fields": {"field": ["message", ...]}}}``
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ServiceError, is_registered


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    body = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return {"error": body}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _first_code(codes) -> str:
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
    if isinstance(codes, list):
        for value in codes:
            return _first_code(value)
    code = str(codes) if codes else "invalid"
    # only declared codes reach a client; a field-validation code we do not declare reads as invalid
    return code if is_registered(code) else "invalid"


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        response = Response(error_body(exc.code, exc.message, fields, **exc.extra), status=exc.status)
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        if exc.status == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = "Token"  # a 401 names the scheme (a missing or wrong code)
        return response
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(detail=exc.message_dict)
        else:
            exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {key: _flatten(value) for key, value in detail.items()}
            messages = _flatten(detail)
        else:
            fields = {}
            messages = _flatten(detail)
        response.data = error_body(
            _first_code(exc.get_codes()), "; ".join(messages) or "Invalid input.", fields
        )
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        code = exc.default_code if isinstance(exc, exceptions.APIException) else "error"
        if isinstance(exc, exceptions.APIException):
            code = _first_code(exc.get_codes())
        response.data = error_body(code, str(getattr(exc, "detail", exc)))
    return response
