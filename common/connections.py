"""Relay connections over querysets without the COUNT that graphene-django runs on every page.

Pagination is forward-only (``first`` + ``after``): one query fetches ``first + 1`` rows, so
``hasNextPage`` needs no count. ``totalCount`` runs its COUNT only when a client asks for it.

Objects fetched together (a page, or the services joined onto a page) can be marked as one page:
the first of them whose resolver needs a relation loads it for all of them, in one query, and
only when a client asks for that relation.
"""

import graphene
from django.db.models import Prefetch, prefetch_related_objects
from graphene import relay
from graphql import GraphQLError
from graphql_relay import cursor_to_offset, offset_to_cursor

from common.limits import MAX_INT

MAX_PAGE_SIZE = 100


class CountedConnection(relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(
        required=True, description="Number of items in the whole list (one COUNT query)"
    )

    def resolve_total_count(self, info):
        return self.count()


class PageArguments:
    first = graphene.Int(required=True, description=f"Page size, 1 to {MAX_PAGE_SIZE}")
    after = graphene.String(description="Cursor of the last item of the previous page")


def check_page_size(first: int) -> None:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise GraphQLError(
            f"`first` must be between 1 and {MAX_PAGE_SIZE}.", extensions={"code": "invalid_page_size"}
        )


def connection_from_queryset(connection_type, queryset, *, first: int, after: str | None = None):
    """A page of ``queryset`` by offset cursors (lists of a few thousand rows at most)."""
    check_page_size(first)
    start = 0
    if after is not None:
        offset = cursor_to_offset(after)
        # a forged cursor past MAX_INT would reach PostgreSQL's OFFSET and fail there
        if offset is None or not 0 <= offset < MAX_INT:
            raise GraphQLError("`after` is not a valid cursor.", extensions={"code": "invalid_cursor"})
        start = offset + 1
    rows = list(queryset[start : start + first + 1])
    return connection_from_rows(
        connection_type,
        rows,
        first=first,
        cursors=[offset_to_cursor(start + index) for index in range(min(len(rows), first))],
        has_previous=start > 0,
        count=queryset.count,
    )


def connection_from_rows(connection_type, rows: list, *, first: int, cursors: list[str], has_previous, count):
    """A connection of ``rows`` (up to ``first + 1``: one more tells that a next page exists), each
    with its cursor; ``count`` is called only when a client asks for ``totalCount``."""
    has_next = len(rows) > first
    pairs = zip(rows[:first], cursors, strict=True)
    edges = [connection_type.Edge(node=row, cursor=cursor) for row, cursor in pairs]
    connection = connection_type(
        edges=edges,
        page_info=relay.PageInfo(
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=has_previous,
            has_next_page=has_next,
        ),
    )
    connection.count = count
    return connection


def mark_page(objects: list) -> list:
    """Remember that ``objects`` were fetched together (see ``prefetch_for_page``)."""
    for obj in objects:
        obj._graphql_page = objects
    return objects


def page_of(obj) -> list:
    return getattr(obj, "_graphql_page", None) or [obj]


def prefetch_for_page(obj, lookup: str | Prefetch) -> None:
    """Load ``lookup`` for every object of ``obj``'s page that lacks it: one query, on first need."""
    name = lookup.prefetch_to if isinstance(lookup, Prefetch) else lookup
    if name in getattr(obj, "_prefetched_objects_cache", {}):
        return
    missing = [item for item in page_of(obj) if name not in getattr(item, "_prefetched_objects_cache", {})]
    prefetch_related_objects(missing or [obj], lookup)
