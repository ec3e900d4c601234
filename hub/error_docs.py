"""The error-code tables of docs/api.md and docs/graphql.md, written from the code registry.

``python manage.py error_codes`` rewrites the part of each page between its two markers;
``--check`` only says whether they are current (a test runs it).
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from common.errors import GRAPHQL, REST, codes_for

START, END = "<!-- error-codes:start -->", "<!-- error-codes:end -->"
PAGES = {REST: "docs/api.md", GRAPHQL: "docs/graphql.md"}
_AREA_ORDER = (
    "community",
    "notifications",
    "referrals",
    "consent",
    "pathways",
    "partners",
    "hsds",
    "common",
    "api",
)


def table(surface: str) -> str:
    entries = sorted(codes_for(surface), key=lambda e: (_AREA_ORDER.index(e.area), e.code))
    where = "the error object" if surface == REST else "`details`"
    lines = [
        START,
        "<!-- generated from common/errors.py by `python manage.py error_codes`; do not edit by hand -->",
        "",
        f"| code | HTTP | area | details (in {where}) | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in entries:
        details = ", ".join(f"`{name}`" for name in entry.details)
        meaning = entry.message[:1].upper() + entry.message[1:]
        lines.append(
            f"| `{entry.code}` | {entry.status} | {entry.area} | {details} | {meaning.replace('|', '/')} |"
        )
    lines.append(END)
    return "\n".join(lines)


def rendered(surface: str, text: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise LookupError(f"{PAGES[surface]} has no {START} … {END} markers")
    return pattern.sub(lambda _match: table(surface), text)


def stale_pages(*, write: bool) -> list[str]:
    stale = []
    for surface, page in PAGES.items():
        path = Path(settings.BASE_DIR) / page
        text = path.read_text(encoding="utf-8")
        new = rendered(surface, text)
        if new != text:
            stale.append(page)
            if write:
                path.write_text(new, encoding="utf-8")
    return stale
