"""Import errors that say where the problem is: file, row (or place in a JSON document), field."""

from common.errors import ServiceError


class Source:
    """Where a record came from: ``services.csv`` row 3, or ``x.json`` document 1 at ``/phones/0``."""

    __slots__ = ("file", "row")

    def __init__(self, file: str, row: str):
        self.file = file
        self.row = row

    def describe(self, field: str | None = None) -> str:
        where = f"{self.file}, {self.row}"
        return f"{where}, field {field}" if field else where

    def __repr__(self) -> str:
        return f"Source({self.describe()!r})"


class HsdsImportError(ServiceError):
    """Nothing was imported. ``file``, ``row`` and ``field`` say where the problem is."""

    default_code = "hsds_invalid"

    def __init__(self, problem: str, *, source: Source | None = None, field: str | None = None, code=None):
        self.problem = problem
        self.file = source.file if source else None
        self.row = source.row if source else None
        where = source.describe(field) if source else (f"field {field}" if field else "")
        super().__init__(f"{where}: {problem}" if where else problem, code=code, field=field)
