"""Relay global ids: one decoder, so every resolver reads a bad id the same way.

A malformed id, an id of another type and an id with an empty part all decode to None, which
callers answer exactly like an id that does not exist.
"""

from graphql import GraphQLError
from graphql_relay import from_global_id


def split_global_id(global_id: str) -> tuple[str, str] | None:
    """``(type name, raw id)``, or None for a malformed id or one with an empty part."""
    try:
        type_name, raw = from_global_id(global_id)
    except Exception:  # malformed base64 or separator: the same answer as an unknown id
        return None
    if not type_name or not raw:
        return None
    return type_name, raw


def decode_global_id(global_id: str, expected_type: str) -> str | None:
    """The raw id inside ``global_id`` if it names an ``expected_type``; None otherwise."""
    parts = split_global_id(global_id)
    if parts is None or parts[0] != expected_type:
        return None
    return parts[1]


def require_global_id(global_id: str, expected_type: str) -> str:
    """``decode_global_id`` for arguments that must name an object: a bad id is a ``not_found`` error."""
    raw = decode_global_id(global_id, expected_type)
    if raw is None:
        raise GraphQLError(f"Not a {expected_type} id.", extensions={"code": "not_found"})
    return raw
