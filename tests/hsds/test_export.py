import copy
import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from jsonschema import Draft7Validator, FormatChecker

from partners.hsds.mapping import CATEGORY_TAXONOMY_ID, SCHEMA_PATH
from partners.models import Service
from partners.vocabulary import DISCLOSURE_FIELDS
from tests.factories import LocationFactory, ServiceFactory
from tests.hsds.conftest import DATA, EXAMPLE_JSON, EXAMPLES, SHARED, service_schema, snapshot

PROFILE = DATA.parent.parent.parent / "docs" / "hsds-profile"


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def profiled_service_schema() -> dict:
    schema = merge_patch(service_schema(), json.loads((PROFILE / "service.json").read_text()))
    organization_patch = json.loads((PROFILE / "organization.json").read_text())
    schema["definitions"]["organization"] = merge_patch(
        schema["definitions"]["organization"], organization_patch
    )
    return schema


def errors(schema: dict, document: dict) -> list[str]:
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture
def directory(operation):
    """The official examples imported, plus services made here (with locations and languages)."""
    for name in [*EXAMPLE_JSON, "csv"]:
        call_command("hsds_import", str(EXAMPLES / name), "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115
    location = LocationFactory(operation=operation)
    ServiceFactory(languages=["ar"], min_age=0, max_age=17, sexes=["female"])
    ServiceFactory(is_active=False, description="").locations.add(location)


def _export_json(tmp_path) -> list[dict]:
    call_command("hsds_export", "--format", "json", str(tmp_path / "json"), stdout=open("/dev/null", "w"))  # noqa: SIM115
    return [json.loads(path.read_text()) for path in sorted((tmp_path / "json").glob("*.json"))]


def test_every_exported_service_validates_against_the_official_schema(directory, tmp_path):
    documents = _export_json(tmp_path)

    assert len(documents) == Service.objects.count() == 3
    schema = service_schema()
    for document in documents:
        assert errors(schema, document) == [], document["id"]


def test_exported_services_also_validate_against_the_profile(directory, tmp_path):
    schema = profiled_service_schema()
    for document in _export_json(tmp_path):
        assert errors(schema, document) == []
        assert set(document["referral_hub"]) == {
            "accepting_referrals",
            "required_fields",
            "optional_fields",
            "response_hours",
            "outcome_due_days",
            "sexes",
            "specific_needs",
        }


def test_profile_rejects_a_field_outside_the_disclosure_vocabulary(directory, tmp_path):
    document = _export_json(tmp_path)[0]
    document["referral_hub"]["required_fields"] = ["blood_type"]

    assert errors(profiled_service_schema(), document)
    assert errors(service_schema(), document) == []  # the profile only adds to HSDS


def test_profile_vocabulary_is_the_disclosure_vocabulary():
    patch = json.loads((PROFILE / "service.json").read_text())
    fields = patch["properties"]["referral_hub"]["properties"]
    assert fields["required_fields"]["items"]["enum"] == list(DISCLOSURE_FIELDS)
    assert fields["optional_fields"]["items"]["enum"] == list(DISCLOSURE_FIELDS)


def test_export_carries_our_fields_category_and_effective_status(directory, tmp_path):
    documents = {document["name"]: document for document in _export_json(tmp_path)}
    mine = Service.objects.exclude(pk="ac148810-d857-441c-9679-408f346de14b").order_by("is_active")
    switched_off, open_service = mine[0], mine[1]

    document = documents[open_service.name]
    assert document["languages"][0]["code"] == "ar"
    assert document["referral_hub"]["required_fields"] == ["given_name", "phone"]
    assert document["referral_hub"]["sexes"] == ["female"]
    category = document["attributes"][0]
    assert category["taxonomy_term"]["id"] == str(open_service.category_id)
    assert category["taxonomy_term"]["taxonomy_id"] == str(CATEGORY_TAXONOMY_ID)
    off = documents[switched_off.name]
    assert off["status"] == "inactive"
    assert off["service_at_locations"][0]["location"]["id"] == str(switched_off.locations.get().pk)


def test_no_exported_document_names_a_person(directory, tmp_path):
    text = json.dumps(_export_json(tmp_path))
    assert "Ann Persona" not in text and "A. Persona" not in text


def test_tabular_export_writes_the_package_and_reimports_unchanged(directory, tmp_path):
    call_command("hsds_export", "--format", "csv", str(tmp_path / "csv"), stdout=open("/dev/null", "w"))  # noqa: SIM115

    package = json.loads((tmp_path / "csv" / "datapackage.json").read_text())
    names = {resource["path"] for resource in package["resources"]}
    assert {"services.csv", "organizations.csv", "locations.csv", "service_at_location.csv"} <= names
    for resource in package["resources"]:
        with (tmp_path / "csv" / resource["path"]).open(newline="") as handle:
            header = next(csv.reader(handle))
        assert header == [field["name"] for field in resource["schema"]["fields"]]
    with (tmp_path / "csv" / "services.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    before = snapshot()

    call_command("hsds_import", str(tmp_path / "csv"), "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert snapshot() == before


def test_import_command_dry_run_reports_and_saves_nothing(operation, capsys):
    before = snapshot()

    call_command("hsds_import", str(EXAMPLES / "service_full.json"), "--dry-run", "--no-progress")

    out = capsys.readouterr().out
    assert "service: 1 new, 0 updated, 0 unchanged" in out
    assert "would change" in out and "dry run: nothing was saved" in out
    assert snapshot() == before


def test_import_command_turns_errors_into_a_clear_message(operation, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"id": "4b1f0c2e-3d5a-4e6f-8a9b-0c1d2e3f4a5b", "status": "active"}')

    with pytest.raises(CommandError, match=r"broken\.json, document at /, field name: is required"):
        call_command("hsds_import", str(path), "--no-progress")


OFFICIAL_SUMS = DATA / "OFFICIAL.sha256"  # sha256 of the official files, recorded when they were copied


def _copy_of(official_name: str) -> Path:
    """Where the suite keeps its copy of an official file (``schema/compiled/x.json`` or ``examples/…``)."""
    if official_name.startswith("schema/compiled/"):
        return DATA / official_name.removeprefix("schema/compiled/")
    return EXAMPLES / official_name.removeprefix("examples/")


def test_the_copies_are_the_official_files_byte_for_byte():
    import hashlib

    recorded = dict(
        reversed(line.split(maxsplit=1)) for line in OFFICIAL_SUMS.read_text().splitlines() if line.strip()
    )
    copies = {f"examples/{path.relative_to(EXAMPLES)}" for path in EXAMPLES.rglob("*") if path.is_file()}
    assert copies <= set(recorded), sorted(copies - set(recorded))
    for name, digest in recorded.items():
        assert hashlib.sha256(_copy_of(name).read_bytes()).hexdigest() == digest, name
        if SHARED.exists():  # beside the checkout, the official folder itself is the judge
            assert (SHARED / name).read_bytes() == _copy_of(name).read_bytes(), name
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(
        (DATA / "service_with_definitions.json").read_text()
    )


def test_export_validates_against_the_official_schema(directory, tmp_path):
    # the official service schema with its definitions (a copy checked above); beside the checkout,
    # the official compiled one (2 MB, not copied) as well
    schemas = [json.loads((DATA / "service_with_definitions.json").read_text())]
    if SHARED.exists():
        schemas.append(json.loads((SHARED / "schema" / "compiled" / "service.json").read_text()))
    for document in _export_json(tmp_path):
        for schema in schemas:
            assert errors(schema, copy.deepcopy(document)) == []
