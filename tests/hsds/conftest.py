"""HSDS test data: copies of the official HSDS 3.0 files in ``tests/hsds/data`` (see SOURCE.md).

The copies are what the tests use, always, so the suite is deterministic and runs without the
shared standards folder; when that folder sits beside the checkout, a test checks the copies still
match it.
"""

import csv
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from partners.models import (
    Accessibility,
    Address,
    Attribute,
    Contact,
    Language,
    Location,
    Organisation,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    Taxonomy,
    TaxonomyTerm,
)
from tests.factories import OperationFactory

DATA = Path(__file__).parent / "data"
EXAMPLES = DATA / "examples"
SHARED = settings.BASE_DIR.parent / "shared" / "standards" / "hsds-3.0"
EXAMPLE_JSON = sorted(path.name for path in EXAMPLES.glob("*.json"))

HSDS_MODELS = (
    Organisation,
    Service,
    Location,
    ServiceCategory,
    ServiceAtLocation,
    Contact,
    Phone,
    Schedule,
    Address,
    Accessibility,
    Language,
    Taxonomy,
    TaxonomyTerm,
    Attribute,
    Group,
    Service.locations.through,
)


def snapshot() -> dict:
    """Every row (all columns) of every table an import writes, and the history row counts."""
    state = {}
    for model in HSDS_MODELS:
        state[model.__name__] = sorted(map(repr, model.objects.values_list()))
        if hasattr(model, "history"):
            state[f"{model.__name__} history"] = model.history.count()
    return state


def service_schema() -> dict:
    return json.loads((DATA / "service_with_definitions.json").read_text(encoding="utf-8"))


@pytest.fixture
def operation(db):
    return OperationFactory()


@pytest.fixture
def csv_package(tmp_path):
    """``csv_package(**edits)`` → a copy of the official tabular example; ``edits`` maps a file name
    to a function that changes its rows (list of dicts) or to raw text that replaces it."""

    def make(**edits) -> Path:
        folder = tmp_path / "package"
        shutil.copytree(EXAMPLES / "csv", folder)
        for name, edit in edits.items():
            path = folder / name.replace("__", ".")
            if isinstance(edit, str):
                path.write_text(edit, encoding="utf-8")
                continue
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            fieldnames = list(rows[0])
            rows = edit(rows) or rows
            for row in rows:
                fieldnames += [key for key in row if key not in fieldnames]
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=fieldnames, restval="")
                writer.writeheader()
                writer.writerows(rows)
        return folder

    return make


def write_json(folder: Path, name: str, document) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def example(name: str):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
