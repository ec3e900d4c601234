"""The compiled validator and jsonschema agree, and an import's errors are jsonschema's words.

``partners.hsds.reader._Schema`` lets fastjsonschema decide and jsonschema (the official schema's
judge) word a failure. Safe only if the compiled validator accepts exactly what jsonschema
accepts: checked here on every official example (documents and tabular rows) and on documents
broken one value at a time, everywhere the schema has a property (wrong types, bad UUIDs, e-mail
addresses, enum values, missing required fields, inside nested objects too), including the
formats jsonschema does not check (``uri``, ``date-time``), which the compiled validator must not
check either.
"""

import copy
import json

import pytest
from jsonschema import Draft7Validator, FormatChecker

from partners.hsds import reader
from partners.hsds.errors import HsdsImportError
from partners.hsds.mapping import CSV_FILES, definition, hsds_schema
from tests.hsds.conftest import EXAMPLE_JSON, EXAMPLES

# one of each: the values a broken document carries where the schema wants something else
WRONG_VALUES = [12, 1.5, True, None, "text", "", [], ["text"], {}, {"id": "x"}]
FORMAT_VALUES = {
    "uuid": [
        "not-a-uuid",
        "12345678123412341234123456789abc",  # 32 hex digits without hyphens: not a uuid here
        "{12345678-1234-1234-1234-123456789abc}",
        "12345678-1234-1234-1234-1234-56789abc",  # an extra hyphen: jsonschema lets it through
        "ABCDEF01-2345-6789-ABCD-EF0123456789",
    ],
    "email": ["no-at-sign", "a@b", "@", "x@y.z"],
    "uri": ["not a uri", "http://example.org/"],  # jsonschema does not check uri here
    "date-time": ["yesterday", "2024-02-30T25:00:00Z"],  # nor date-time
}
ENUM_VALUES = ["closed", "ACTIVE", "Active "]


def judge(schema: dict) -> Draft7Validator:
    """jsonschema exactly as the import used it before it had a compiled validator."""
    return Draft7Validator(schema, format_checker=FormatChecker())


def verdicts(schema: reader._Schema, instance) -> tuple[bool, bool]:
    try:
        schema.compiled(instance)
        compiled = True
    except reader.fastjsonschema.JsonSchemaValueException:
        compiled = False
    return compiled, not list(schema.judge.iter_errors(instance))


def resolve(spec: dict) -> dict:
    while "$ref" in spec:
        spec = hsds_schema()["definitions"][spec["$ref"].rsplit("/", 1)[-1]]
    return spec


def broken(instance: dict, spec: dict):
    """Copies of ``instance`` with one value made wrong, or one required field taken out."""
    for name in spec.get("required", ()):
        if name in instance:
            yield {key: value for key, value in instance.items() if key != name}
    for name, child in spec.get("properties", {}).items():
        child = resolve(child)
        values = [*WRONG_VALUES, *FORMAT_VALUES.get(child.get("format"), ())]
        if "enum" in child:
            values += ENUM_VALUES
        for value in values:
            yield {**instance, name: value}


def nested_instances(documents) -> dict[str, dict]:
    """One instance of every definition the examples reach (phone, schedule, contact, …), found by
    following the schema into each document: each is broken against its own definition, which is
    the part of the schema both validators apply to it inside a document."""
    found: dict[str, dict] = {}

    def visit(instance, spec):
        if "$ref" in spec:
            name = spec["$ref"].rsplit("/", 1)[-1]
            if isinstance(instance, dict):
                keep(name, instance)
            spec = resolve(spec)
        if isinstance(instance, dict):
            for key, child in spec.get("properties", {}).items():
                if key in instance:
                    visit(instance[key], child)
        elif isinstance(instance, list) and "items" in spec:
            for item in instance:
                visit(item, spec["items"])

    def keep(name, instance):
        # the smallest: every property of the definition is broken whether the instance has it or not
        if name not in found or len(json.dumps(instance)) < len(json.dumps(found[name])):
            found[name] = instance

    for kind, document in documents:
        keep(kind, document)
        visit(document, definition(kind))
    return found


def example_documents():
    """(table, document) for every document the official JSON examples hold."""
    found = []

    def visit(document):
        if isinstance(document, list):
            for item in document:
                visit(item)
            return
        kind = reader._kind_of(document)
        if kind == "page":
            visit(document["contents"])
        elif kind not in (None, "api_root", "tabular"):
            found.append((kind, document))

    for name in EXAMPLE_JSON:
        visit(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))
    return found


def example_rows():
    """(table, values) for every row of the official tabular package, as the reader types them."""
    found = []
    for path in sorted((EXAMPLES / "csv").glob("*.csv")):
        table = CSV_FILES.get(path.name)
        if table is None:
            continue
        for index, row in enumerate(reader._csv_rows(path)):
            row.pop("referral_hub", None)
            found.append((table, reader._coerce(table, row, reader.Source(path.name, f"row {index + 2}"))))
    return found


DOCUMENTS = example_documents()
ROWS = example_rows()
NESTED = nested_instances(DOCUMENTS)


def test_the_examples_cover_every_kind_of_document_and_row():
    assert {kind for kind, _ in DOCUMENTS} == {
        "service",
        "organization",
        "location",
        "service_at_location",
        "taxonomy",
        "taxonomy_term",
    }
    assert len({table for table, _ in ROWS}) >= 10


@pytest.mark.parametrize(
    ("kind", "document"), DOCUMENTS, ids=[f"{kind}-{n}" for n, (kind, _) in enumerate(DOCUMENTS)]
)
def test_both_validators_accept_the_official_documents(kind, document):
    assert verdicts(reader._validator(kind), document) == (True, True)


def test_both_validators_accept_the_official_rows():
    for table, values in ROWS:
        assert verdicts(reader._row_validator(table), values) == (True, True), (table, values)


@pytest.mark.parametrize("name", sorted(NESTED))
def test_both_validators_agree_on_documents_broken_one_value_at_a_time(name):
    schema, disagreements, refused = reader._validator(name), [], 0
    for variant in broken(NESTED[name], definition(name)):
        compiled, official = verdicts(schema, variant)
        refused += not official
        if compiled != official:
            disagreements.append((compiled, official, json.dumps(variant)[:300]))
    assert refused > 0 and not disagreements, disagreements[:3]


def test_the_broken_documents_reach_every_definition_the_examples_use():
    assert {"phone", "schedule", "contact", "language", "address", "attribute", "taxonomy_term"} <= set(
        NESTED
    )


def test_both_validators_agree_on_rows_broken_one_value_at_a_time():
    first_of_each = {table: values for table, values in reversed(ROWS)}
    for table, values in first_of_each.items():
        schema = reader._row_validator(table)
        for variant in broken(values, {"properties": reader.scalar_properties(table)}):
            compiled, official = verdicts(schema, variant)
            assert compiled == official, (table, variant)
        for name in schema.judge.schema["required"]:
            assert verdicts(schema, {k: v for k, v in values.items() if k != name}) == (False, False)


def test_the_compiled_validator_leaves_the_document_as_it_was():
    for kind, document in DOCUMENTS:
        before = copy.deepcopy(document)
        reader._validator(kind).compiled(document)
        assert document == before


def test_a_document_only_the_compiled_validator_refuses_is_accepted():
    """jsonschema is the judge: a refusal it does not confirm lets the document through."""
    schema = reader._validator("phone")
    phone = {"id": "12345678-1234-1234-1234-1234-56789abc", "number": "+256 700 000000"}
    refusing = reader._Schema(schema.judge.schema)
    refusing.compiled = lambda _instance: reader.fastjsonschema.validate({"not": {}}, _instance)
    assert refusing.first_error(phone) is None
    assert schema.first_error(phone) is None


BROKEN_FILES = [
    ("minimum_age", "twelve"),
    ("status", "closed"),
    ("email", "no-at-sign"),
    ("phones", {"id": "x"}),
    ("organization", {"name": "No id"}),
    ("service_at_locations", [{"id": "00000000-0000-4000-8000-000000000001", "location": {"id": "x"}}]),
]


@pytest.mark.parametrize(("name", "value"), BROKEN_FILES)
def test_an_import_refuses_a_broken_document_with_jsonschemas_own_words(tmp_path, monkeypatch, name, value):
    """The error an import gives is the one it gave when jsonschema alone validated."""
    document = {**json.loads((EXAMPLES / "service_full.json").read_text(encoding="utf-8")), name: value}
    path = tmp_path / "service.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(HsdsImportError) as ours:
        reader.read_path(path)
    monkeypatch.setattr(
        reader._Schema,
        "first_error",
        lambda self, instance: reader._first_error(judge(self.judge.schema), instance),
    )
    with pytest.raises(HsdsImportError) as before:
        reader.read_path(path)
    assert (ours.value.message, ours.value.code, ours.value.field) == (
        before.value.message,
        before.value.code,
        before.value.field,
    )
