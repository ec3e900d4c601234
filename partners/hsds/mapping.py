"""How the directory's models map to HSDS 3.0 tables: plain data and small value converters.

One ``Table`` per HSDS table that the directory keeps. ``columns`` are the one-to-one values
(HSDS name → model attribute, with a kind that says how to convert); ``owners`` are the HSDS
``*_id`` columns that point at a parent row. A *required* owner must exist (in the same import or
in the database) or the import fails; the other owners are optional links: a link to a row that
exists nowhere is dropped with a warning (the official examples are full of those).
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import time
from functools import cache
from pathlib import Path

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
    Taxonomy,
    TaxonomyTerm,
)

HSDS_VERSION = "3.0"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
SCHEMA_PATH = Path(__file__).parent / "schema" / "service_with_definitions.json"

# Ids the directory makes up where HSDS needs one and we keep none. uuid5 keeps them stable
# from one export to the next, so a re-import finds the same rows.
NAMESPACE = uuid.UUID("6f1c7f2e-4b7a-5c1e-9a57-3e2d1b0c9a11")
CATEGORY_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:service-category")
CATEGORY_TAXONOMY = {
    "id": str(CATEGORY_TAXONOMY_ID),
    "name": "Referral Hub service categories",
    "description": "The categories the Referral Hub uses to route referrals (GBV case management, "
    "child protection, MHPSS, health, legal aid, …).",
    "version": "1",
}
CATEGORY_LINK_TYPE = "service_category"
UNCATEGORISED_CODE = "uncategorised"
PROFILE_KEY = "referral_hub"


def synthetic_id(*parts) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts))


@dataclass(frozen=True)
class Column:
    hsds: str
    attr: str
    kind: str = "text"  # text | int | float | time | uuid


@dataclass(frozen=True)
class Owner:
    hsds: str  # e.g. "service_id"
    attr: str  # e.g. "service_id"
    table: str  # the HSDS table it points at
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    csv: str
    model: type
    columns: tuple[Column, ...]
    owners: tuple[Owner, ...] = ()
    # rows of this table must keep at least one owner (a phone of nobody is dropped)
    needs_owner: bool = False
    # HSDS columns the directory deliberately does not keep (names of people, mostly)
    not_kept: tuple[str, ...] = field(default=())
    # text columns the directory needs filled in (HSDS accepts an empty string)
    nonblank: tuple[str, ...] = ("name",)


def _cols(*names: str, kind: str = "text") -> tuple[Column, ...]:
    return tuple(Column(name, name, kind) for name in names)


TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table(
            "taxonomy",
            "taxonomies.csv",
            Taxonomy,
            _cols("name", "description", "uri", "version"),
        ),
        Table(
            "taxonomy_term",
            "taxonomy_terms.csv",
            TaxonomyTerm,
            (
                *_cols("code", "name", "description"),
                Column("parent_id", "parent_hsds_id", "uuid"),
                Column("taxonomy", "taxonomy_name"),
                Column("taxonomy_id", "taxonomy_hsds_id", "uuid"),
                *_cols("language", "term_uri"),
            ),
        ),
        Table(
            "organization",
            "organizations.csv",
            Organisation,
            (
                *_cols("name", "alternate_name", "description", "email", "website"),
                Column("year_incorporated", "year_incorporated", "int"),
                *_cols("legal_status", "logo", "uri"),
                Column("parent_organization_id", "parent_hsds_id", "uuid"),
            ),
            not_kept=("tax_status", "tax_id"),
        ),
        Table(
            "location",
            "locations.csv",
            Location,
            (
                *_cols("location_type", "url", "name", "alternate_name", "description", "transportation"),
                *_cols("latitude", "longitude", kind="float"),
                *_cols("external_identifier", "external_identifier_type"),
            ),
            # locations are shared places here; the owning organisation is not kept
            not_kept=("organization_id",),
            nonblank=(),
        ),
        Table(
            "service",
            "services.csv",
            Service,
            (
                *_cols(
                    "name",
                    "alternate_name",
                    "description",
                    "url",
                    "email",
                    "status",
                    "interpretation_services",
                    "application_process",
                    "fees_description",
                    "wait_time",
                    "accreditations",
                    "eligibility_description",
                ),
                Column("minimum_age", "min_age", "int"),
                Column("maximum_age", "max_age", "int"),
                Column("alert", "alert"),
            ),
            owners=(Owner("organization_id", "organisation_id", "organization", required=True),),
            not_kept=("program_id", "fees", "assured_date", "assurer_email", "licenses", "last_modified"),
        ),
        Table(
            "service_at_location",
            "service_at_location.csv",
            ServiceAtLocation,
            _cols("description"),
            owners=(
                Owner("service_id", "service_id", "service", required=True),
                Owner("location_id", "location_id", "location", required=True),
            ),
            nonblank=(),
        ),
        Table(
            "contact",
            "contacts.csv",
            Contact,
            _cols("title", "department", "email"),
            owners=(
                Owner("organization_id", "organisation_id", "organization"),
                Owner("service_id", "service_id", "service"),
                Owner("service_at_location_id", "service_at_location_id", "service_at_location"),
                Owner("location_id", "location_id", "location"),
            ),
            needs_owner=True,
            not_kept=("name",),
            nonblank=(),
        ),
        Table(
            "phone",
            "phones.csv",
            Phone,
            (
                Column("number", "number"),
                Column("extension", "extension", "int"),
                *_cols("type", "description"),
            ),
            owners=(
                Owner("location_id", "location_id", "location"),
                Owner("service_id", "service_id", "service"),
                Owner("organization_id", "organisation_id", "organization"),
                Owner("contact_id", "contact_id", "contact"),
                Owner("service_at_location_id", "service_at_location_id", "service_at_location"),
            ),
            needs_owner=True,
            nonblank=("number",),
        ),
        Table(
            "schedule",
            "schedules.csv",
            Schedule,
            (
                *_cols("valid_from", "valid_to", "dtstart"),
                Column("timezone", "timezone", "float"),
                Column("until", "until"),
                Column("count", "count", "int"),
                *_cols("wkst", "freq"),
                Column("interval", "interval", "int"),
                *_cols("byday", "byweekno", "bymonthday", "byyearday", "description"),
                *_cols("opens_at", "closes_at", kind="time"),
                *_cols("schedule_link", "attending_type", "notes"),
            ),
            owners=(
                Owner("service_id", "service_id", "service"),
                Owner("location_id", "location_id", "location"),
                Owner("service_at_location_id", "service_at_location_id", "service_at_location"),
            ),
            needs_owner=True,
            nonblank=(),
        ),
        Table(
            "address",
            "addresses.csv",
            Address,
            _cols(
                "address_1",
                "address_2",
                "city",
                "region",
                "state_province",
                "postal_code",
                "country",
                "address_type",
            ),
            owners=(Owner("location_id", "location_id", "location", required=True),),
            not_kept=("attention",),
            nonblank=(),
        ),
        Table(
            "accessibility",
            "accessibility.csv",
            Accessibility,
            _cols("description", "details", "url"),
            owners=(Owner("location_id", "location_id", "location", required=True),),
            nonblank=(),
        ),
        Table(
            "language",
            "languages.csv",
            Language,
            _cols("name", "code", "note"),
            owners=(
                Owner("service_id", "service_id", "service"),
                Owner("location_id", "location_id", "location"),
                Owner("phone_id", "phone_id", "phone"),
            ),
            needs_owner=True,
            nonblank=(),
        ),
        Table(
            "attribute",
            "attributes.csv",
            Attribute,
            _cols("link_type", "value"),
            owners=(Owner("taxonomy_term_id", "taxonomy_term_id", "taxonomy_term", required=True),),
            nonblank=(),
        ),
    )
}
# The order rows are written in: parents before children.
APPLY_ORDER = tuple(TABLES)
CSV_FILES = {table.csv: table.name for table in TABLES.values()}
# HSDS tables the directory does not keep; an import counts and reports them.
NOT_KEPT_TABLES = (
    "program",
    "funding",
    "service_area",
    "required_document",
    "cost_option",
    "organization_identifier",
    "metadata",
    "meta_table_description",
)
NOT_KEPT_CSV = {
    "programs.csv": "program",
    "funding.csv": "funding",
    "service_areas.csv": "service_area",
    "required_documents.csv": "required_document",
    "cost_options.csv": "cost_option",
    "organization_identifiers.csv": "organization_identifier",
    "metadata.csv": "metadata",
    "meta_table_descriptions.csv": "meta_table_description",
}
# attribute.link_entity → (HSDS table, model attribute)
ATTRIBUTE_LINKS = {
    "service": ("service", "service_id"),
    "organization": ("organization", "organisation_id"),
    "location": ("location", "location_id"),
}


@cache
def hsds_schema() -> dict:
    """The official compiled service schema with its definitions (HSDS 3.0, unchanged)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def definition(table: str) -> dict:
    schema = hsds_schema()
    if table == "service":
        return {key: value for key, value in schema.items() if key != "definitions"}
    return schema["definitions"][table]


def scalar_properties(table: str) -> dict[str, dict]:
    """The columns a table has in the tabular form, in the standard's order."""
    return {
        name: spec
        for name, spec in definition(table)["properties"].items()
        if spec.get("type") not in ("array", "object") and "$ref" not in spec
    }


# Converters --------------------------------------------------------------------------------


class ConversionError(ValueError):
    pass


def to_model(kind: str, value):
    """An HSDS value (already type-checked against the schema) → the model's value."""
    if kind == "text":
        return "" if value is None else str(value)
    if value is None or value == "":
        return None
    if kind == "int":
        number = float(value)
        if not number.is_integer() or number < 0:
            raise ConversionError(f"{value!r} is not a whole non-negative number")
        return int(number)
    if kind == "float":
        return float(value)
    if kind == "uuid":
        try:
            return uuid.UUID(str(value))
        except ValueError as exc:
            raise ConversionError(f"{value!r} is not a UUID") from exc
    if kind == "time":
        try:
            return time.fromisoformat(str(value))
        except ValueError as exc:
            raise ConversionError(f"{value!r} is not a time of day (HH:MM or HH:MM:SS)") from exc
    raise AssertionError(kind)


def to_hsds(kind: str, value):
    """A model value → its HSDS JSON value (None for "not given")."""
    if value is None or value == "":
        return None
    if kind in ("uuid", "text"):
        return str(value)
    if kind == "time":
        return value.isoformat()
    if kind == "float":
        return int(value) if float(value).is_integer() else value
    return value


def scalar_row(table: str, obj, *, owners: bool, keep_empty: tuple[str, ...] = ()) -> dict:
    """The one-to-one HSDS fields of ``obj`` (empty ones left out unless listed in keep_empty).

    ``owners``: include the ``*_id`` links to parent rows (tabular form, top-level documents).
    """
    spec = TABLES[table]
    row = {"id": str(obj.pk)}
    for owner in spec.owners if owners else ():
        if (value := getattr(obj, owner.attr)) is not None:
            row[owner.hsds] = str(value)
    for column in spec.columns:
        value = to_hsds(column.kind, getattr(obj, column.attr))
        if value is not None:
            row[column.hsds] = value
        elif column.hsds in keep_empty:
            row[column.hsds] = ""
    return row
