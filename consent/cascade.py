"""Extension points that let later apps act on consent events without ``consent`` importing them.

``referrals`` registers its handlers at start-up (``AppConfig.ready``):

- withdrawal handlers — ``handler(*, record, lineage, actor)`` — run inside the withdrawal's
  transaction (cancel dependent referrals, revoke grants, erase shared payloads). ``lineage`` is
  the withdrawn record's id followed by the ids of the versions it replaced, since referrals
  may rest on an earlier version. If any handler raises, the whole withdrawal is rolled back.
- erasure handlers — ``handler(*, person, actor)`` — run inside the erasure's transaction, before
  the person's own fields are cleared and their data key destroyed; they must clear every copy of
  the person's personal data that their app holds, history rows included. (Copies sealed with the
  person's key become unreadable when it is destroyed, but the rows must not keep them.)
- scope-change handlers — ``handler(*, previous, record, actor)`` — run when a new version
  replaces ``previous``; what the new scope no longer covers is undone like a withdrawal.
- access exporters — ``exporter(*, person, actor) -> JSON-serialisable`` — each adds one named
  section to a subject-access export; ``actor`` receives it (reads of shared data are logged).
"""

from collections.abc import Callable

_withdrawal_handlers: list[Callable] = []
_scope_change_handlers: list[Callable] = []
_erasure_handlers: list[Callable] = []
_access_exporters: dict[str, Callable] = {}


def register_withdrawal_handler(handler: Callable) -> Callable:
    if handler not in _withdrawal_handlers:
        _withdrawal_handlers.append(handler)
    return handler


def unregister_withdrawal_handler(handler: Callable) -> None:
    if handler in _withdrawal_handlers:
        _withdrawal_handlers.remove(handler)


def run_withdrawal_handlers(*, record, actor) -> None:
    lineage = record.lineage_ids()
    for handler in list(_withdrawal_handlers):
        handler(record=record, lineage=lineage, actor=actor)


def register_scope_change_handler(handler: Callable) -> Callable:
    """``handler(*, previous, record, actor)``: a new version replaced ``previous`` inside the same
    transaction; whatever rests on the old scope and the new one no longer covers must be undone."""
    if handler not in _scope_change_handlers:
        _scope_change_handlers.append(handler)
    return handler


def run_scope_change_handlers(*, previous, record, actor) -> None:
    for handler in list(_scope_change_handlers):
        handler(previous=previous, record=record, actor=actor)


def register_erasure_handler(handler: Callable) -> Callable:
    if handler not in _erasure_handlers:
        _erasure_handlers.append(handler)
    return handler


def unregister_erasure_handler(handler: Callable) -> None:
    if handler in _erasure_handlers:
        _erasure_handlers.remove(handler)


def run_erasure_handlers(*, person, actor) -> None:
    for handler in list(_erasure_handlers):
        handler(person=person, actor=actor)


def register_access_exporter(section: str, exporter: Callable) -> Callable:
    if section in {"schema", "generated_at", "person", "consents", "data_subject_requests"}:
        raise ValueError(f"'{section}' is a built-in section of the export.")
    _access_exporters[section] = exporter
    return exporter


def unregister_access_exporter(section: str) -> None:
    _access_exporters.pop(section, None)


def run_access_exporters(*, person, actor=None) -> dict:
    """``exporter(*, person, actor)``: ``actor`` is who receives the export (for access logs)."""
    return {section: exporter(person=person, actor=actor) for section, exporter in _access_exporters.items()}
