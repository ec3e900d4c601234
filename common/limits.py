"""Bounds on what a request may carry, shared by both APIs.

Every check here exists because the layer below would otherwise fail with an internal error
instead of a 400: PostgreSQL refuses NUL in text and integers past bigint, UTF-8 encoding refuses
unpaired surrogates, and Python's JSON decoder (and every recursive walk after it) runs out of
stack on deeply nested documents. Pure functions: no framework, so REST, GraphQL and the
middleware apply the same rules.
"""

from __future__ import annotations

import json
import math
import re

# Whole numbers a client may send where we count rows: 32-bit, as GraphQL's Int. Far above any
# list this service holds, far below the bigint that PostgreSQL refuses with an error.
MAX_INT = 2**31 - 1
# Nesting of a JSON body. The deepest legitimate document, a pathway import with conditions nested
# the most the rule language allows, stays well below it.
MAX_JSON_DEPTH = 32

# NUL (PostgreSQL text cannot hold it) and lone surrogates (no UTF-8 encoding exists for them)
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class InputRejected(ValueError):
    """A request body or value that would break a lower layer; ``code`` is a registered error code."""

    def __init__(self, message: str, *, code: str, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.where = where


def bad_character(text: str) -> str | None:
    """A description of the first character no layer below can store, or None."""
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return None
    return "a NUL character" if match.group() == "\x00" else "an unpaired surrogate"


def check_text(text: str, *, where: str) -> None:
    if (problem := bad_character(text)) is not None:
        raise InputRejected(
            f"{where} holds {problem}, which is not accepted.", code="invalid_characters", where=where
        )


def check_document(value, *, where: str = "body", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Walk a decoded JSON value without recursion: depth, and every key and string."""
    stack = [(value, where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, where=path)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise InputRejected(
                f"The JSON document nests deeper than {max_depth} levels.", code="parse_error", where=path
            )
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(key, where=f"{path}.{_printable(key)}")
                stack.append((child, f"{path}.{_printable(key)}", depth + 1))
        else:
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))


def _printable(key: str) -> str:
    # a key with a bad character is named by position, never echoed (the error must render)
    return key if bad_character(key) is None else "?"


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 decodes to infinity, which no JSON answer can carry
        raise ValueError(f"{text} is out of range for a number")
    return number


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def loads(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH):
    """``json.loads`` that refuses what the layers below cannot take.

    Raises ``InputRejected`` with code ``parse_error`` (malformed, a non-finite number, nested too
    deep) or ``invalid_characters``."""
    try:
        value = json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise InputRejected(
            f"The JSON document nests deeper than {max_depth} levels.", code="parse_error"
        ) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, out-of-range numbers
        raise InputRejected(f"JSON parse error - {exc}", code="parse_error") from None
    check_document(value, max_depth=max_depth)
    return value
