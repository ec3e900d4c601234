"""Bulk writes with history through PostgreSQL ``COPY``, for imports of thousands of rows.

``copy_create_with_history`` and ``copy_update_with_history`` write the same rows and history rows
as django-simple-history's ``bulk_create_with_history`` and ``bulk_update_with_history``
(``tests/common/test_bulk.py`` compares them column by column). Those build one multi-row
``INSERT`` (or one ``CASE`` per column for an update) per batch, and at a few thousand rows of
thirty columns building and parsing that SQL costs several times what PostgreSQL needs to store
the rows; ``COPY`` streams the values instead. Values go through each field's
``get_db_prep_save``, as an ``INSERT`` would, so the database sees the same values, and every
constraint is checked as for an ``INSERT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext

from django.db import connections, router, transaction
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from simple_history.utils import get_change_reason_from_object, get_history_manager_for_model


def copy_create_with_history(objs: Sequence[Model], model: type[Model], *, default_user=None) -> None:
    """Insert ``objs`` (primary keys set) and a "created" history row for each."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    fields = _columns(model)
    rows = []
    for obj in objs:
        if obj.pk is None:
            raise ValueError(f"{model.__name__}: COPY needs the primary key set before writing")
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        # pre_save(add=True) is what an INSERT runs: auto_now and auto_now_add fields get their time
        rows.append(tuple(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields))
    with transaction.atomic(using=connection.alias, savepoint=False):
        _copy(connection, model, fields, rows)
        for obj in objs:
            obj._state.adding, obj._state.db = False, connection.alias
        _copy_history(
            connection, model, objs, history_type="+", default_user=default_user, copied=(fields, rows)
        )


def copy_update_with_history(
    objs: Sequence[Model], model: type[Model], *, fields: Iterable[str], default_user=None
) -> None:
    """Write ``fields`` of ``objs`` (existing rows) and a "changed" history row for each."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = model._meta.pk
    changed = [model._meta.get_field(name) for name in fields]
    table = quote(model._meta.db_table)
    staging = quote(f"copy_update_{model._meta.db_table}")
    rows = [
        tuple(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in (pk, *changed))
        for obj in objs
    ]
    columns = ", ".join(quote(field.column) for field in (pk, *changed))
    assignments = ", ".join(f"{quote(field.column)} = staged.{quote(field.column)}" for field in changed)
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        # a staging table with exactly the columns' types, filled by COPY, then one UPDATE … FROM
        # (names from the model's metadata, quoted; the values travel through COPY)
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
        _copy(connection, model, (pk, *changed), rows, table=staging)
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {staging} AS staged "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = staged.{quote(pk.column)}"
        )
        cursor.execute(f"DROP TABLE {staging}")
        _copy_history(connection, model, objs, history_type="~", default_user=default_user)


def _columns(model: type[Model]) -> list[Field]:
    return [field for field in model._meta.concrete_fields if not field.generated]


def _copy_history(
    connection, model: type[Model], objs, *, history_type: str, default_user, copied=None
) -> None:
    """The history rows ``HistoryManager.bulk_history_create`` would build, as plain values.

    ``copied``: the fields and rows just copied into the model's table; a history column that is
    the copy of one of them takes the value already prepared for it (the history model's fields
    are clones of the model's, so they prepare a value the same way) instead of preparing it again.
    """
    history = get_history_manager_for_model(model).model
    tracked = [history._meta.get_field(field.name) for field in history.tracked_fields]
    extra = [
        history._meta.get_field(name) for name in ("history_date", "history_change_reason", "history_type")
    ]
    user = history._meta.get_field("history_user")
    written = {field.column for field in (*tracked, *extra, user)}
    unwritten = {field.column for field in _columns(history)} - written
    if unwritten != {history._meta.pk.column} or not isinstance(history._meta.pk, AutoFieldMixin):
        # custom history fields, a UUID history id, …: not what this was written and tested for
        raise ValueError(f"{history.__name__}: history columns {sorted(unwritten)} are not written by COPY")
    position = {field.attname: index for index, field in enumerate(copied[0])} if copied else {}
    reused = [position.get(field.attname) for field in tracked]
    rows = []
    for number, obj in enumerate(objs):
        # the same expressions as bulk_history_create, with its callers' defaults (no date, no reason)
        author = getattr(obj, "_history_user", default_user or history.get_default_history_user(obj))
        values = [getattr(obj, field.attname) for field in tracked]
        values += [
            getattr(obj, "_history_date", timezone.now()),
            get_change_reason_from_object(obj) or None,
            history_type,
        ]
        ready = copied[1][number] if copied else ()
        prepared = (
            field.get_db_prep_save(value, connection) if index is None else ready[index]
            for field, value, index in zip(tracked + extra, values, reused + [None] * len(extra), strict=True)
        )
        rows.append((*prepared, getattr(author, "pk", None)))
    _copy(connection, history, [*tracked, *extra, user], rows)


def _copy(
    connection, model: type[Model], fields: Sequence[Field], rows: list[tuple], *, table: str | None = None
) -> None:
    quote = connection.ops.quote_name
    sql = (
        f"COPY {table or quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        "FROM STDIN"
    )
    with connection.cursor() as cursor:
        # the debug cursor (DEBUG, CaptureQueriesContext, django_assert_num_queries) logs it as a query
        # and the database's refusals arrive as Django's errors (IntegrityError, …), as from execute()
        logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged, connection.wrap_database_errors, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
