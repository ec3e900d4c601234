"""The REST list pagination: ``limit`` and ``offset`` checked, not guessed.

DRF's ``LimitOffsetPagination`` silently falls back to its default for a limit it cannot read and
hands an unbounded limit to the database, which refuses one past bigint with an internal error.
Here a value outside its range is a 400 that names the parameter.
"""

import re

from rest_framework import pagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

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


class ListingPagination(LimitOffsetPagination):
    """Pages of a listing rather than a queryset: an object with ``count()``, ``page(first=,
    after=, offset=)`` (up to ``first + 1`` rows), ``decode_cursor(text)`` and ``cursor_of(row)``.
    The count comes from the listing (which need not count rows), and ``next`` resumes after the
    page's last row by a keyset cursor (``after``), which costs the same on page 1 and page 10,000.
    ``offset`` still works; ``after`` and ``offset`` together are refused."""

    cursor_query_param = "after"

    def paginate_queryset(self, listing, request, view=None):
        self.listing = listing if hasattr(listing, "page") else None
        self.after = None
        if self.listing is None:  # a plain queryset (another list of the same view)
            return super().paginate_queryset(listing, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        raw = (request.query_params.get(self.cursor_query_param) or "").strip()
        self.after = listing.decode_cursor(raw) if raw else None
        if self.after is not None and self.offset:
            raise ServiceError(
                "Use either after or offset, not both.",
                code="invalid_parameter",
                field=self.cursor_query_param,
            )
        self.count = listing.count()
        rows = listing.page(first=self.limit, after=self.after, offset=self.offset)
        self.has_next = len(rows) > self.limit
        self.rows = rows[: self.limit]
        return self.rows

    def get_next_link(self):
        if self.listing is None:
            return super().get_next_link()
        if not self.has_next or not self.rows:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, self.listing.cursor_of(self.rows[-1]))

    def get_previous_link(self):
        return None if self.after is not None else super().get_previous_link()
