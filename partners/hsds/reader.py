"""Read HSDS files into flat records, one per HSDS row, each remembering where it came from.

Accepted: a JSON file (a service, organization, location, service_at_location, taxonomy or
taxonomy term document; a list of them; an HSDA ``Page`` envelope; or the tabular form as JSON,
``{"services.csv": [...], ...}``), a folder of such JSON files, or a folder holding the Tabular
Data Package (``services.csv``, ``organizations.csv``, … and ``datapackage.json``).

JSON documents are validated against the official compiled schema before anything else; CSV rows
are converted to the types the schema gives and validated row by row (a compiled validator
decides, jsonschema words the error: ``_Schema``). Every error names the file, the row (or the
place in the document) and the field.
"""

import csv
import json
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import fastjsonschema
from django.conf import settings
from jsonschema import Draft7Validator, FormatChecker

from partners.hsds.errors import HsdsImportError, Source
from partners.hsds.mapping import (
    CSV_FILES,
    NOT_KEPT_CSV,
    NOT_KEPT_TABLES,
    PROFILE_KEY,
    TABLES,
    definition,
    hsds_schema,
    scalar_properties,
)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "HSDS_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class Record:
    table: str
    id: uuid.UUID
    values: dict  # HSDS column → value, as given
    source: Source
    profile: dict | None = None  # the ``referral_hub`` extension (docs/hsds-profile)
    refs: dict = field(default_factory=dict)  # model attribute → parent id, once resolved


@dataclass
class Batch:
    """Everything one import brings, keyed by table and HSDS id; duplicates are merged."""

    records: dict[str, dict[uuid.UUID, Record]] = field(default_factory=lambda: {name: {} for name in TABLES})
    warnings: list[str] = field(default_factory=list)
    not_kept: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)

    def add(self, table: str, values: dict, source: Source, profile: dict | None = None) -> uuid.UUID:
        record_id = _uuid(values.get("id"), source, "id")
        values = {key: value for key, value in values.items() if value is not None and value != ""}
        for column in TABLES[table].not_kept:
            if column in values:
                self.not_kept[f"{table}.{column}"] += 1
                del values[column]
        known = self.records[table].get(record_id)
        if known is None:
            self.records[table][record_id] = Record(table, record_id, values, source, profile)
            return record_id
        # The same row repeated (HSDS documents embed the same phone under the service, its
        # location and its contact): merge the links, keep one set of values.
        for key, value in values.items():
            if key in known.values and known.values[key] != value and not key.endswith("_id"):
                self.warnings.append(
                    f"{source.describe(key)}: {table} {record_id} was given as {known.values[key]!r} "
                    f"at {known.source.describe()}; the later value {value!r} is kept"
                )
            known.values[key] = value
        if profile is not None:
            known.profile = profile
        return record_id

    def count(self) -> int:
        return sum(len(rows) for rows in self.records.values())


def _uuid(value, source: Source, field_name: str) -> uuid.UUID:
    if value is None or value == "":
        raise HsdsImportError("is required", source=source, field=field_name, code="hsds_missing_field")
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise HsdsImportError(
            f"{value!r} is not a UUID", source=source, field=field_name, code="hsds_bad_uuid"
        ) from None


# Schema validation ---------------------------------------------------------------------------


class _Schema:
    """One schema, two validators: a compiled one decides, jsonschema words a failure.

    fastjsonschema turns the schema into Python code once and checks a valid document many times
    faster than jsonschema walks it, which at thousands of rows was most of reading a package.
    The official schema with jsonschema stays the judge: a document the compiled validator
    refuses is handed to jsonschema, whose first error (the message every import has always
    given) is the answer, and which accepts the document if it finds none. For the formats the
    compiled validator asks jsonschema's own checks, so both check the same ones in the same way
    (jsonschema here checks ``uuid`` and ``email``, not ``uri`` or ``date-time``);
    ``tests/hsds/test_validators.py`` proves them to agree on the fixtures and on crafted
    invalid documents.
    """

    def __init__(self, schema: dict):
        self.judge = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
        formats = {name: partial(FORMAT_CHECKER.conforms, format=name) for name in _formats_in(schema)}
        # use_default=False: the compiled validator would otherwise write defaults into the document
        self.compiled = fastjsonschema.compile(schema, formats=formats, use_default=False)

    def first_error(self, instance):
        try:
            self.compiled(instance)
        except fastjsonschema.JsonSchemaValueException:
            return _first_error(self.judge, instance)
        return None


FORMAT_CHECKER = FormatChecker()


def _formats_in(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats_in(value) for value in node))
    return set()


@cache
def _validator(table: str) -> _Schema:
    return _Schema({**definition(table), "definitions": hsds_schema()["definitions"]})


@cache
def _row_validator(table: str) -> _Schema:
    spec = definition(table)
    properties = scalar_properties(table)
    required = [name for name in [*spec.get("required", []), *spec.get("tabular_required", [])]]
    return _Schema({"type": "object", "properties": properties, "required": required})


def _pointer(path) -> str:
    return "/" + "/".join(str(part) for part in path) if path else "/"


def _first_error(validator: Draft7Validator, instance):
    errors = sorted(validator.iter_errors(instance), key=lambda e: ([str(p) for p in e.path], e.message))
    return errors[0] if errors else None


def _validate_document(table: str, document, file: str, where: str) -> None:
    error = _validator(table).first_error(document)
    if error is None:
        return
    path = list(error.absolute_path)
    code = "hsds_wrong_type" if error.validator == "type" else "hsds_invalid"
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        field_name, problem, code = missing[0], "is required", "hsds_missing_field"
    elif path and isinstance(path[-1], str):
        field_name, problem = path[-1], error.message
        path = path[:-1]
    else:
        field_name, problem = None, error.message
    if error.validator == "format" and error.validator_value == "uuid":
        code = "hsds_bad_uuid"
    raise HsdsImportError(
        problem, source=Source(file, f"{where} at {_pointer(path)}"), field=field_name, code=code
    )


# JSON ----------------------------------------------------------------------------------------


def _kind_of(document: dict) -> str | None:
    keys = set(document)
    if {"version", "openapi_url"} <= keys:
        return "api_root"
    if keys and all(key.endswith(".csv") for key in keys):
        return "tabular"
    if "contents" in keys and "total_items" in keys:
        return "page"
    if "location_type" in keys:
        return "location"
    if "service" in keys or ("location" in keys and "status" not in keys):
        return "service_at_location"
    if "status" in keys:
        return "service"
    if "taxonomy_detail" in keys or "term_uri" in keys or "parent_id" in keys or "taxonomy_id" in keys:
        return "taxonomy_term"
    if "code" in keys and "name" in keys and "description" in keys and "version" not in keys:
        return "taxonomy_term"
    if keys <= {"id", "name", "description", "uri", "version"}:
        return "taxonomy"
    if {"id", "name"} <= keys:
        return "organization"
    return None


class _JsonFlattener:
    def __init__(self, batch: Batch, file: str, where: str):
        self.batch = batch
        self.file = file
        self.where = where

    def src(self, path: str) -> Source:
        return Source(self.file, f"{self.where} at {path or '/'}")

    def _scalars(self, table: str, obj: dict, **links) -> dict:
        values = {key: value for key, value in obj.items() if not isinstance(value, list | dict)}
        values.update({key: value for key, value in links.items() if value is not None})
        return values

    def _skip(self, obj: dict, names) -> None:
        for name in names:
            value = obj.get(name)
            if value:
                self.batch.not_kept[name] += len(value) if isinstance(value, list) else 1

    def phones(self, items, path, **links):
        for index, phone in enumerate(items or []):
            here = f"{path}/phones/{index}"
            phone_id = self.batch.add("phone", self._scalars("phone", phone, **links), self.src(here))
            self.languages(phone.get("languages"), here, phone_id=str(phone_id))

    def languages(self, items, path, **links):
        for index, language in enumerate(items or []):
            self.batch.add(
                "language",
                self._scalars("language", language, **links),
                self.src(f"{path}/languages/{index}"),
            )

    def contacts(self, items, path, **links):
        for index, contact in enumerate(items or []):
            here = f"{path}/contacts/{index}"
            contact_id = self.batch.add("contact", self._scalars("contact", contact, **links), self.src(here))
            self.phones(contact.get("phones"), here, contact_id=str(contact_id))

    def schedules(self, items, path, **links):
        for index, schedule in enumerate(items or []):
            self.batch.add(
                "schedule",
                self._scalars("schedule", schedule, **links),
                self.src(f"{path}/schedules/{index}"),
            )

    def attributes(self, items, path, *, link_entity: str, link_id):
        for index, attribute in enumerate(items or []):
            here = f"{path}/attributes/{index}"
            term = attribute.get("taxonomy_term")
            values = self._scalars("attribute", attribute, link_entity=link_entity, link_id=str(link_id))
            if isinstance(term, dict):
                values["taxonomy_term_id"] = str(self.taxonomy_term(term, f"{here}/taxonomy_term"))
            self.batch.add("attribute", values, self.src(here))
            self._skip(attribute, ["metadata"])

    def taxonomy_term(self, term: dict, path: str) -> uuid.UUID:
        values = self._scalars("taxonomy_term", term)
        detail = term.get("taxonomy_detail")
        if isinstance(detail, dict):
            values["taxonomy_id"] = str(self.taxonomy(detail, f"{path}/taxonomy_detail"))
        self._skip(term, ["metadata"])
        return self.batch.add("taxonomy_term", values, self.src(path))

    def taxonomy(self, taxonomy: dict, path: str) -> uuid.UUID:
        return self.batch.add("taxonomy", self._scalars("taxonomy", taxonomy), self.src(path))

    def location(self, location: dict, path: str) -> uuid.UUID:
        location_id = self.batch.add("location", self._scalars("location", location), self.src(path))
        links = {"location_id": str(location_id)}
        self.languages(location.get("languages"), path, **links)
        for index, address in enumerate(location.get("addresses") or []):
            self.batch.add(
                "address", self._scalars("address", address, **links), self.src(f"{path}/addresses/{index}")
            )
        self.contacts(location.get("contacts"), path, **links)
        for index, item in enumerate(location.get("accessibility") or []):
            self.batch.add(
                "accessibility",
                self._scalars("accessibility", item, **links),
                self.src(f"{path}/accessibility/{index}"),
            )
        self.phones(location.get("phones"), path, **links)
        self.schedules(location.get("schedules"), path, **links)
        self.attributes(location.get("attributes"), path, link_entity="location", link_id=location_id)
        self._skip(location, ["metadata"])
        return location_id

    def organization(self, organization: dict, path: str) -> uuid.UUID:
        profile = organization.get(PROFILE_KEY)
        organization_id = self.batch.add(
            "organization", self._scalars("organization", organization), self.src(path), profile
        )
        links = {"organization_id": str(organization_id)}
        self.contacts(organization.get("contacts"), path, **links)
        self.phones(organization.get("phones"), path, **links)
        for index, location in enumerate(organization.get("locations") or []):
            self.location(location, f"{path}/locations/{index}")
        for index, service in enumerate(organization.get("services") or []):
            self.service(service, f"{path}/services/{index}", organization_id=organization_id)
        self.attributes(
            organization.get("attributes"), path, link_entity="organization", link_id=organization_id
        )
        self._skip(organization, ["funding", "programs", "organization_identifiers", "metadata"])
        return organization_id

    def service(self, service: dict, path: str, organization_id=None) -> uuid.UUID:
        organization = service.get("organization")
        if isinstance(organization, dict):
            organization_id = self.organization(organization, f"{path}/organization")
        links = {"organization_id": str(organization_id) if organization_id else None}
        values = self._scalars("service", service, **links)
        service_id = self.batch.add("service", values, self.src(path), service.get(PROFILE_KEY))
        links = {"service_id": str(service_id)}
        self.phones(service.get("phones"), path, **links)
        self.schedules(service.get("schedules"), path, **links)
        for index, item in enumerate(service.get("service_at_locations") or []):
            self.service_at_location(item, f"{path}/service_at_locations/{index}", service_id=service_id)
        self.languages(service.get("languages"), path, **links)
        self.contacts(service.get("contacts"), path, **links)
        self.attributes(service.get("attributes"), path, link_entity="service", link_id=service_id)
        self._skip(
            service,
            ["service_areas", "funding", "cost_options", "program", "required_documents", "metadata"],
        )
        return service_id

    def service_at_location(self, item: dict, path: str, service_id=None) -> uuid.UUID:
        if isinstance(item.get("service"), dict):
            service_id = self.service(item["service"], f"{path}/service")
        location_id = item.get("location_id")
        if isinstance(item.get("location"), dict):
            location_id = self.location(item["location"], f"{path}/location")
        values = self._scalars(
            "service_at_location",
            item,
            service_id=str(service_id) if service_id else None,
            location_id=str(location_id) if location_id else None,
        )
        sal_id = self.batch.add("service_at_location", values, self.src(path))
        links = {"service_at_location_id": str(sal_id)}
        self.contacts(item.get("contacts"), path, **links)
        self.phones(item.get("phones"), path, **links)
        self.schedules(item.get("schedules"), path, **links)
        self._skip(item, ["attributes", "metadata"])
        return sal_id


def _read_document(batch: Batch, document, file: str, where: str) -> None:
    if isinstance(document, list):
        for index, item in enumerate(document):
            _read_document(batch, item, file, f"{where}, item {index + 1}")
        return
    if not isinstance(document, dict):
        raise HsdsImportError(
            "expected a JSON object or a list of objects", source=Source(file, where), code="hsds_wrong_type"
        )
    kind = _kind_of(document)
    if kind is None:
        raise HsdsImportError(
            "not an HSDS service, organization, location, service_at_location, taxonomy or taxonomy "
            "term document",
            source=Source(file, where),
            code="hsds_unknown_document",
        )
    if kind == "api_root":
        return
    if kind == "page":
        contents = document["contents"]
        if not isinstance(contents, list):
            raise HsdsImportError(
                "must be a list", source=Source(file, where), field="contents", code="hsds_wrong_type"
            )
        for index, item in enumerate(contents):
            _read_document(batch, item, file, f"{where}, contents item {index + 1}")
        return
    if kind == "tabular":
        for name, rows in document.items():
            if not isinstance(rows, list):
                raise HsdsImportError(
                    "must be a list of rows", source=Source(file, where), field=name, code="hsds_wrong_type"
                )
            _read_rows(
                batch, name, (dict(row) if isinstance(row, dict) else row for row in rows), f"{file}:{name}"
            )
        return
    _validate_document(kind, document, file, where)
    flattener = _JsonFlattener(batch, file, where)
    if kind == "service" and isinstance(document.get("organization"), dict):
        # the service schema does not check the embedded organization's own required fields
        _validate_document("organization", document["organization"], file, f"{where} at /organization")
    getattr(flattener, kind)(document, "")


# CSV / tabular -------------------------------------------------------------------------------


def _coerce(table: str, row: dict, source: Source) -> dict:
    """Cell values → the types the schema gives. Empty cells are "not given", except in required
    columns, where they are the empty string (valid HSDS; the importer decides if it may be empty)."""
    properties = scalar_properties(table)
    required = set(definition(table).get("required", ()))
    values = {}
    for key, value in row.items():
        if value is None or (value == "" and key not in required):
            continue
        kind = properties.get(key, {}).get("type")
        if isinstance(value, str) and kind in ("number", "integer"):
            try:
                number = float(value)
            except ValueError:
                raise HsdsImportError(
                    f"{value!r} is not a number", source=source, field=key, code="hsds_wrong_type"
                ) from None
            value = int(number) if number.is_integer() else number
        elif kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
            # tabular cells are text; the official tabular example writes some as JSON numbers
            value = str(value)
        values[key] = value
    return values


def _validate_row(table: str, values: dict, source: Source) -> None:
    error = _row_validator(table).first_error(values)
    if error is None:
        return
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in values]
        raise HsdsImportError("is required", source=source, field=missing[0], code="hsds_missing_field")
    field_name = error.absolute_path[0] if error.absolute_path else None
    code = "hsds_wrong_type" if error.validator == "type" else "hsds_invalid"
    if error.validator == "format" and error.validator_value == "uuid":
        code = "hsds_bad_uuid"
    raise HsdsImportError(error.message, source=source, field=field_name, code=code)


def _profile_cell(value, source: Source):
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise HsdsImportError(
            "must be a JSON object", source=source, field=PROFILE_KEY, code="hsds_wrong_type"
        ) from None


def _read_rows(batch: Batch, file_name: str, rows, label: str) -> None:
    base = file_name.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if base in NOT_KEPT_CSV:
        batch.not_kept[NOT_KEPT_CSV[base]] += sum(1 for _ in rows)
        return
    table = CSV_FILES.get(base)
    if table is None:
        batch.warnings.append(f"{label}: not an HSDS table; ignored")
        return
    for index, row in enumerate(rows):
        source = Source(label, f"row {index + 2}")
        if not isinstance(row, dict):
            raise HsdsImportError("must be an object", source=source, code="hsds_wrong_type")
        profile = _profile_cell(row.pop(PROFILE_KEY, None), source)
        values = _coerce(table, row, source)
        _validate_row(table, values, source)
        if table == "attribute":
            values.setdefault("link_entity", "")
        batch.add(table, values, source, profile)


def _csv_rows(path: Path):
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as exc:
            raise HsdsImportError(str(exc), source=Source(path.name, "row 1"), code="hsds_bad_csv") from None
        width = len(header)
        row_number = 1
        while True:
            row_number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise HsdsImportError(
                    str(exc), source=Source(path.name, f"row {row_number}"), code="hsds_bad_csv"
                ) from None
            if not cells:
                continue
            if len(cells) != width:
                raise HsdsImportError(
                    f"has {len(cells)} values but the header has {width} columns",
                    source=Source(path.name, f"row {row_number}"),
                    code="hsds_bad_csv",
                )
            yield dict(zip(header, cells, strict=True))


# Entry point ---------------------------------------------------------------------------------


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > max_bytes():
        raise HsdsImportError(
            f"the file is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes() / 1024 / 1024:.0f} MB "
            "(HSDS_IMPORT_MAX_BYTES). Split the file and import the parts.",
            source=Source(path.name, "whole file"),
            code="hsds_file_too_large",
        )


def _read_json_file(batch: Batch, path: Path) -> None:
    _check_size(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HsdsImportError(
            f"not valid JSON: {exc}", source=Source(path.name, "whole file"), code="hsds_bad_json"
        ) from None
    _read_document(batch, document, path.name, "document")


def read_path(path: str | os.PathLike) -> Batch:
    path = Path(path)
    batch = Batch()
    if not path.exists():
        raise HsdsImportError(f"{path} does not exist", code="hsds_not_found")
    if path.is_file():
        if path.suffix.lower() != ".json":
            raise HsdsImportError(
                "give a .json file, or the folder that holds the tabular package (the .csv files)",
                source=Source(path.name, "whole file"),
                code="hsds_unknown_format",
            )
        batch.files.append(path.name)
        _read_json_file(batch, path)
        return batch
    csv_files = sorted(path.glob("*.csv"))
    files = csv_files or sorted(p for p in path.glob("*.json") if p.name != "datapackage.json")
    for file in files:
        _check_size(file)
    if csv_files:
        order = {table.csv: index for index, table in enumerate(TABLES.values())}
        for file in sorted(csv_files, key=lambda p: (order.get(p.name, len(order)), p.name)):
            batch.files.append(file.name)
            _read_rows(batch, file.name, _csv_rows(file), file.name)
    else:
        for file in files:
            batch.files.append(file.name)
            _read_json_file(batch, file)
    if not batch.files:
        raise HsdsImportError(f"{path} holds no .json or .csv files", code="hsds_not_found")
    return batch


__all__ = ["NOT_KEPT_TABLES", "Batch", "Record", "read_path"]
