"""Errors raised by services, with stable codes.

Services in every app raise these. The REST exception handler (``hub.errors``) and the GraphQL
mutations translate them into the same ``{code, message, field}`` shape.
"""


class ServiceError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, extra=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.extra = extra or {}


class NotFound(ServiceError):
    """Also used for objects the caller may not see: not allowed looks exactly like not found."""

    status = 404
    default_code = "not_found"


class PermissionDenied(ServiceError):
    """The caller can see the object but their role does not allow the action."""

    status = 403
    default_code = "permission_denied"


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"
