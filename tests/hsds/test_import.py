import csv
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import PermissionDenied
from partners.hsds.errors import HsdsImportError
from partners.hsds.exports import write_json, write_tabular
from partners.hsds.imports import hsds_import
from partners.models import (
    Contact,
    Language,
    Location,
    Organisation,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from partners.selectors import organisation_can_receive_referrals
from tests.factories import LocationFactory, OperationFactory, ServiceFactory
from tests.hsds.conftest import EXAMPLE_JSON, EXAMPLES, example, snapshot
from tests.hsds.conftest import write_json as write_document

SERVICE_ID = uuid.UUID("ac148810-d857-441c-9679-408f346de14b")
ORGANIZATION_ID = uuid.UUID("d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610")


# Every official example ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [*EXAMPLE_JSON, "csv"])
def test_every_official_example_imports_and_a_second_import_changes_nothing(operation, name):
    report = hsds_import(path=EXAMPLES / name)
    assert not report.dry_run
    before = snapshot()

    again = hsds_import(path=EXAMPLES / name)

    assert again.changes == 0
    assert snapshot() == before


def test_full_service_example_keeps_what_the_directory_models(operation):
    hsds_import(path=EXAMPLES / "service_full.json")

    service = Service.objects.get(pk=SERVICE_ID)
    assert service.name == "Community Counselling"
    assert service.status == "active"
    assert (service.min_age, service.max_age) == (12, 100)
    assert service.eligibility_description.startswith("This service is intended for all people aged 12")
    assert service.languages == ["ur"]
    assert service.organisation_id == ORGANIZATION_ID
    location = Location.objects.get(pk="3a19ff88-4620-4d17-9830-ac1d859eb5d5")
    assert list(service.locations.all()) == [location]
    assert location.location_type == "physical"
    assert location.addresses.get().city == "MyCity"
    assert location.accessibility.get().details.startswith("Switch hearing aid")
    link = ServiceAtLocation.objects.get(pk="e94c9f38-1e8f-4564-91d4-d53501ab1765")
    assert (link.service_id, link.location_id) == (service.pk, location.pk)
    phone = Phone.objects.get(pk="1554f2e2-a373-45db-a3fa-9fc48a61c15e")
    # the same phone is listed under the service, its location, the organization and a contact
    assert phone.service_id == service.pk
    assert phone.location_id == location.pk
    assert phone.organisation_id == ORGANIZATION_ID
    assert phone.contact_id == uuid.UUID("1e7efce3-639b-4880-940c-b95cd30cdb50")
    assert [language.code for language in phone.languages.all()] == ["ur"]
    schedule = Schedule.objects.get(pk="48102e86-bb50-41c4-8f1e-e269368c41d1")
    assert str(schedule.opens_at) == "10:00:00" and schedule.byday == "TH,FR"
    term = TaxonomyTerm.objects.get(pk="3f7b145d-84af-42d7-8fae-eaca714b02b2")
    assert service.attributes.get().taxonomy_term == term
    assert service.category.code == "uncategorised"


def test_import_keeps_no_names_of_people(operation):
    report = hsds_import(path=EXAMPLES / "service_full.json")

    contact = Contact.objects.get(pk="1e7efce3-639b-4880-940c-b95cd30cdb50")
    assert (contact.department, contact.title) == ("Reception", "Reception Manager")
    assert not hasattr(contact, "name")
    stored = json.dumps(snapshot())
    assert "Ann Persona" not in stored and "A. Persona" not in stored
    assert report.not_kept["contact.name"] >= 1
    assert report.not_kept["address.attention"] >= 1


# An import never opens a referral channel ------------------------------------------------


def test_imported_organisation_starts_inactive_without_agreement_or_focal_point(operation, tmp_path):
    document = example("service_full.json")
    document["referral_hub"] = {"accepting_referrals": True}
    path = write_document(tmp_path, "service.json", document)

    report = hsds_import(path=path)

    organisation = Organisation.objects.get(pk=ORGANIZATION_ID)
    assert organisation.is_active is False
    assert organisation.dsa_signed_on is None
    assert organisation.memberships.count() == 0
    assert organisation.group.name == f"organisation:{organisation.pk}"
    assert organisation_can_receive_referrals(organisation=organisation) == (False, "organisation_inactive")
    service = Service.objects.get(pk=SERVICE_ID)
    assert service.is_accepting_referrals is False
    assert any("do not accept referrals" in warning for warning in report.warnings)


def test_reimport_may_close_a_service_but_never_reopens_it(operation, tmp_path):
    existing = ServiceFactory(is_accepting_referrals=False, is_active=False)
    document = {
        "id": str(existing.pk),
        "name": existing.name,
        "status": "active",
        "organization_id": str(existing.organisation_id),
        "referral_hub": {"accepting_referrals": True},
    }
    path = write_document(tmp_path, "s.json", document)

    hsds_import(path=path)

    existing.refresh_from_db()
    assert (existing.is_active, existing.is_accepting_referrals) == (False, False)

    open_service = ServiceFactory(is_accepting_referrals=True)
    closing = {
        "id": str(open_service.pk),
        "name": open_service.name,
        "status": "temporarily closed",
        "organization_id": str(open_service.organisation_id),
        "referral_hub": {"accepting_referrals": False},
    }
    hsds_import(path=write_document(tmp_path, "close.json", closing))

    open_service.refresh_from_db()
    assert open_service.status == "temporarily closed"
    assert (open_service.is_active, open_service.is_accepting_referrals) == (False, False)


def test_reimport_does_not_touch_an_existing_organisations_switches(operation, tmp_path):
    hsds_import(path=EXAMPLES / "service_full.json")
    organisation = Organisation.objects.get(pk=ORGANIZATION_ID)
    Organisation.objects.filter(pk=organisation.pk).update(is_active=True, acronym="EXO", kind="iom")
    document = example("service_full.json")
    document["organization"]["description"] = "A new description."

    hsds_import(path=write_document(tmp_path, "s.json", document))

    organisation.refresh_from_db()
    assert organisation.description == "A new description."
    assert (organisation.is_active, organisation.acronym, organisation.kind) == (True, "EXO", "iom")


# Idempotent, history, dry run -------------------------------------------------------------


def test_reimport_updates_in_place_and_records_history_without_a_user(operation, tmp_path):
    hsds_import(path=EXAMPLES / "service_full.json")
    document = example("service_full.json")
    document["name"] = "Community Counselling (MyCity)"

    report = hsds_import(path=write_document(tmp_path, "s.json", document))

    assert report.updated["service"] == 1 and report.created["service"] == 0
    assert Service.objects.count() == 1
    service = Service.objects.get(pk=SERVICE_ID)
    assert service.name == "Community Counselling (MyCity)"
    assert [h.history_type for h in service.history.order_by("history_date")] == ["+", "~"]
    assert service.history.latest().history_user is None


def test_import_by_a_platform_admin_records_them_in_history(operation, platform_admin):
    hsds_import(path=EXAMPLES / "service_full.json", actor=platform_admin)

    assert Service.objects.get(pk=SERVICE_ID).history.get().history_user == platform_admin


def test_import_by_someone_else_is_refused(operation, org_a):
    with pytest.raises(PermissionDenied):
        hsds_import(path=EXAMPLES / "service_full.json", actor=org_a.focal_point)
    assert not Service.objects.filter(pk=SERVICE_ID).exists()


def test_dry_run_reports_the_changes_and_saves_nothing(operation):
    before = snapshot()

    report = hsds_import(path=EXAMPLES / "service_full.json", dry_run=True)

    assert report.dry_run
    assert report.created["service"] == 1 and report.created["organization"] == 1
    assert "dry run: nothing was saved" in report.lines()
    assert snapshot() == before


def test_round_trip_import_export_import_changes_nothing(operation, tmp_path):
    for name in [*EXAMPLE_JSON, "csv"]:
        hsds_import(path=EXAMPLES / name)
    write_json(tmp_path / "json")
    write_tabular(tmp_path / "csv")
    before = snapshot()

    json_report = hsds_import(path=tmp_path / "json")
    csv_report = hsds_import(path=tmp_path / "csv")

    assert (json_report.changes, csv_report.changes) == (0, 0)
    assert snapshot() == before


def test_round_trip_of_directory_services_changes_nothing(operation, tmp_path):
    location = LocationFactory(operation=operation)
    service = ServiceFactory(languages=["ar", "fr"], min_age=5, max_age=17, is_active=False)
    service.locations.add(location)
    write_json(tmp_path / "json")
    write_tabular(tmp_path / "csv")
    before = snapshot()

    json_report = hsds_import(path=tmp_path / "json")
    csv_report = hsds_import(path=tmp_path / "csv")

    assert (json_report.changes, csv_report.changes) == (0, 0)
    assert snapshot() == before


# Broken inputs: clear error naming file, row and field; database unchanged -------------------


@pytest.fixture
def loaded(operation):
    """The directory with the official examples already in it, to prove a failed import changes nothing."""
    hsds_import(path=EXAMPLES / "csv")
    return snapshot()


def _fails(path, *, code, file, row, field, loaded):
    with pytest.raises(HsdsImportError) as caught:
        hsds_import(path=path)
    error = caught.value
    assert error.code == code, error.message
    assert (error.file, error.row, error.field) == (file, row, field), error.message
    assert file in error.message and row in error.message
    assert field is None or f"field {field}" in error.message
    assert snapshot() == loaded
    return error


def test_json_missing_required_field(loaded, tmp_path):
    document = example("service_full.json")
    del document["service_at_locations"][0]["location"]["location_type"]
    path = write_document(tmp_path, "service.json", document)

    _fails(
        path,
        code="hsds_missing_field",
        file="service.json",
        row="document at /service_at_locations/0/location",
        field="location_type",
        loaded=loaded,
    )


def test_csv_missing_required_field(loaded, csv_package):
    def drop_name(rows):
        rows[0]["name"] = ""

    _fails(
        csv_package(services__csv=drop_name),
        code="hsds_missing_field",
        file="services.csv",
        row="row 2",
        field="name",
        loaded=loaded,
    )


def test_json_bad_uuid(loaded, tmp_path):
    document = example("service_full.json")
    document["phones"][0]["id"] = "not-a-uuid"
    path = write_document(tmp_path, "service.json", document)

    _fails(
        path,
        code="hsds_bad_uuid",
        file="service.json",
        row="document at /phones/0",
        field="id",
        loaded=loaded,
    )


def test_csv_bad_uuid(loaded, csv_package):
    def bad(rows):
        rows[0]["service_id"] = "12345"

    _fails(
        csv_package(phones__csv=bad),
        code="hsds_bad_uuid",
        file="phones.csv",
        row="row 2",
        field="service_id",
        loaded=loaded,
    )


def test_csv_unknown_taxonomy_term(loaded, csv_package):
    def unknown(rows):
        rows[0]["taxonomy_term_id"] = "00000000-0000-4000-8000-000000000001"

    error = _fails(
        csv_package(attributes__csv=unknown),
        code="hsds_unknown_reference",
        file="attributes.csv",
        row="row 2",
        field="taxonomy_term_id",
        loaded=loaded,
    )
    assert "00000000-0000-4000-8000-000000000001" in error.message


def test_json_unknown_taxonomy_term(loaded, tmp_path):
    document = example("service_full.json")
    attribute = document["attributes"][0]
    del attribute["taxonomy_term"]
    attribute["taxonomy_term_id"] = "00000000-0000-4000-8000-000000000002"
    path = write_document(tmp_path, "service.json", document)

    _fails(
        path,
        code="hsds_unknown_reference",
        file="service.json",
        row="document at /attributes/0",
        field="taxonomy_term_id",
        loaded=loaded,
    )


def test_json_wrong_type(loaded, tmp_path):
    document = example("service_full.json")
    document["minimum_age"] = "twelve"
    path = write_document(tmp_path, "service.json", document)

    _fails(
        path,
        code="hsds_wrong_type",
        file="service.json",
        row="document at /",
        field="minimum_age",
        loaded=loaded,
    )


def test_csv_wrong_type(loaded, csv_package):
    def wrong(rows):
        rows[0]["maximum_age"] = "old"

    _fails(
        csv_package(services__csv=wrong),
        code="hsds_wrong_type",
        file="services.csv",
        row="row 2",
        field="maximum_age",
        loaded=loaded,
    )


def test_csv_row_with_too_many_columns(loaded, csv_package):
    text = (EXAMPLES / "csv" / "phones.csv").read_text(encoding="utf-8").rstrip("\n") + ",surplus\n"

    error = _fails(
        csv_package(phones__csv=text),
        code="hsds_bad_csv",
        file="phones.csv",
        row="row 2",
        field=None,
        loaded=loaded,
    )
    assert "11 values but the header has 10 columns" in error.message


def test_fifty_megabyte_file_is_refused_before_it_is_read(loaded, tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: fifty megabytes of NUL bytes, not valid JSON

    error = _fails(
        path, code="hsds_file_too_large", file="huge.json", row="whole file", field=None, loaded=loaded
    )
    assert "50.0 MB" in error.message


def test_problem_found_after_earlier_tables_were_written_still_changes_nothing(loaded, csv_package):
    # organizations are written before services: the clash is found mid-import
    def second_service_same_name(rows):
        rows.append({**rows[0], "id": "5e6f1f35-1b7b-4f66-9d6e-6d2a0c3a7c11"})

    def new_organization(rows):
        rows.append({**rows[0], "id": "0f0e7c1a-8f4e-4a35-9f4c-1d8b8c0f7a21", "name": "Another Org"})

    package = csv_package(services__csv=second_service_same_name, organizations__csv=new_organization)

    _fails(package, code="hsds_duplicate_name", file="services.csv", row="row 3", field="name", loaded=loaded)


def test_service_with_unknown_organization_is_refused(loaded, tmp_path):
    document = {
        "id": str(uuid.uuid4()),
        "name": "Orphan",
        "status": "active",
        "organization_id": str(uuid.uuid4()),
    }
    path = write_document(tmp_path, "orphan.json", document)

    _fails(
        path,
        code="hsds_unknown_reference",
        file="orphan.json",
        row="document at /",
        field="organization_id",
        loaded=loaded,
    )


def test_profile_with_unknown_disclosure_field_is_refused(loaded, tmp_path):
    document = example("service_full.json")
    document["referral_hub"] = {"required_fields": ["given_name", "blood_type"]}
    path = write_document(tmp_path, "service.json", document)

    error = _fails(
        path,
        code="hsds_invalid_profile",
        file="service.json",
        row="document at /",
        field="referral_hub.required_fields",
        loaded=loaded,
    )
    assert "blood_type" in error.message


def test_import_needs_an_operation_to_be_chosen_when_there_are_several(loaded, tmp_path):
    OperationFactory(name="Another operation")
    document = example("organization_list.json")
    document["contents"][0]["id"] = str(uuid.uuid4())
    document["contents"][0]["name"] = "A New Organisation"
    path = write_document(tmp_path, "orgs.json", document)

    with pytest.raises(HsdsImportError) as caught:
        hsds_import(path=path)
    assert caught.value.code == "hsds_operation_required"
    assert snapshot() == loaded


# Bulk: bounded queries -----------------------------------------------------------------------


def _package(folder, services: int):
    """A tabular package: one organization and ``services`` services, each with a phone and a place."""
    folder.mkdir()
    organization = str(uuid.uuid4())
    tables = {
        "organizations.csv": [{"id": organization, "name": f"Bulk {folder.name}", "description": "Bulk."}],
        "services.csv": [],
        "locations.csv": [],
        "service_at_location.csv": [],
        "phones.csv": [],
    }
    for number in range(services):
        service, location = str(uuid.uuid4()), str(uuid.uuid4())
        tables["services.csv"].append(
            {"id": service, "organization_id": organization, "name": f"Service {number}", "status": "active"}
        )
        tables["locations.csv"].append(
            {"id": location, "location_type": "physical", "name": f"Site {folder.name} {number}"}
        )
        tables["service_at_location.csv"].append(
            {"id": str(uuid.uuid4()), "service_id": service, "location_id": location}
        )
        tables["phones.csv"].append(
            {"id": str(uuid.uuid4()), "service_id": service, "number": f"+254 700 {number}"}
        )
    for name, rows in tables.items():
        with (folder / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _queries(path) -> int:
    with CaptureQueriesContext(connection) as context:
        hsds_import(path=path)
    return len(context.captured_queries)


def test_import_runs_the_same_number_of_queries_for_ten_or_a_hundred_services(operation, tmp_path):
    hsds_import(path=_package(tmp_path / "first", 1))  # creates the "uncategorised" category once
    small = _queries(_package(tmp_path / "small", 10))
    large = _queries(_package(tmp_path / "large", 100))

    assert Service.objects.count() == 111
    assert Language.objects.count() == 0
    assert large == small
