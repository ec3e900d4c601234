"""The REST list pagination: ``limit`` and ``offset`` checked, not guessed.

DRF's ``LimitOffsetPagination`` silently falls back to its default for a limit it cannot read and
hands an unbounded limit to the database, which refuses one past bigint with an internal error.
Here a value outside its range is a 400 that names the parameter.
"""

import re

from rest_framework import pagination

from common.errors import ServiceError
from common.limits import MAX_INT

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,20}")  # not int()'s grammar: no "1_000", no other scripts' digits


def query_integer(params, name: str, *, default: int, low: int, high: int) -> int:
    """A whole number from the query string, ``low`` to ``high``; a 400 naming ``name`` otherwise."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    value = int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ServiceError(
            f"{name} must be a whole number from {low} to {high}.", code="invalid_parameter", field=name
        )
    return value


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        limit = self.limit_query_param
        return query_integer(
            request.query_params, limit, default=self.default_limit, low=1, high=self.max_limit
        )

    def get_offset(self, request):
        return query_integer(request.query_params, self.offset_query_param, default=0, low=0, high=MAX_INT)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_INT, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters
