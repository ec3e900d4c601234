"""The operation admin's pages: organisations, agreements, focal points and the HSDS import, through
the real URLs, as a platform admin signed in with a second factor, and as everybody else."""

import io
import json
import re
import uuid
import zipfile
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from common.errors import ServiceError
from partners import services
from partners.hsds import uploads
from partners.models import Membership, Organisation, Service
from tests.factories import (
    OperationFactory,
    OrganisationFactory,
    PlatformAdminFactory,
    confirmed_totp_device,
    member,
    totp_code,
)
from tests.hsds.conftest import EXAMPLES, snapshot

User = get_user_model()
ORGANIZATION_ID = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"  # of the official service_full.json example


@pytest.fixture
def admin(db):
    return PlatformAdminFactory(username="ops.admin")


@pytest.fixture
def as_admin(sign_in, admin, tmp_path, settings):
    settings.HSDS_UPLOAD_DIR = str(tmp_path / "uploads")
    return sign_in(admin, otp=totp_code(confirmed_totp_device(admin)))


def _main(response) -> str:
    """The page without its header (whose forms carry the request's path and token)."""
    return response.content.decode().split('<main id="main"', 1)[1]


def _missing_page(client) -> str:
    return _main(client.get(f"/console/referrals/{uuid.uuid4()}"))


def _field_error(body: str, field_id: str) -> str:
    """The error paragraph linked from the input ``field_id`` (``aria-describedby``), as text."""
    tag = re.search(rf"<(?:input|select)[^>]*\bid=\"{field_id}\"[^>]*>", body)
    assert tag, f"no input {field_id}"
    assert 'aria-invalid="true"' in tag.group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]*)"', tag.group(0)).group(1)
    error = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', body, re.S)
    assert error, f"no error next to {field_id}"
    return re.sub(r"<[^>]+>", "", error.group(1))


PAGES = [
    ("get", "/console/operation"),
    ("get", "/console/operation/organisations/new"),
    ("post", "/console/operation/organisations/new"),
    ("get", "/console/operation/organisations/{org}"),
    ("post", "/console/operation/organisations/{org}/edit"),
    ("post", "/console/operation/organisations/{org}/agreement"),
    ("post", "/console/operation/organisations/{org}/focal-point"),
    ("post", "/console/operation/organisations/{org}/activation-link"),
    ("post", "/console/operation/organisations/{org}/active"),
    ("get", "/console/operation/import"),
    ("post", "/console/operation/import"),
    ("post", "/console/operation/import/run"),
]


# Who reaches the pages ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [page for page in PAGES if page[0] == "get"])
def test_a_signed_out_visitor_is_sent_to_sign_in(client, world, method, url):
    response = client.get(url.format(org=world.b.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/console/sign-in?next=/console/operation")


@pytest.mark.parametrize("who", ["focal_point", "caseworker", "viewer", "staff_without_permission"])
def test_everyone_but_a_platform_admin_gets_the_one_404_page_and_changes_nothing(sign_in, world, who):
    if who == "staff_without_permission":
        user = member(world.c, is_staff=True)
        client = sign_in(user, otp=totp_code(confirmed_totp_device(user)))
    else:
        client = sign_in(getattr(world.b, who))
    missing = _missing_page(client)
    before = snapshot()
    for method, url in PAGES:
        data = {
            "name": "Taken over",
            "acronym": "TKN",
            "kind": "national_ngo",
            "partnership": "none",
            "active": "off",
            "signed_on": "2020-01-01",
            "username": world.c.caseworker.username,
        }
        response = getattr(client, method)(url.format(org=world.b.pk), data if method == "post" else None)
        assert response.status_code == 404, url
        assert _main(response) == missing, url
    assert snapshot() == before
    world.b.refresh_from_db()
    assert world.b.is_active and world.b.name == "Organisation B"


def test_the_header_links_the_operation_pages_for_an_admin_only(as_admin, sign_in, world):
    assert 'href="/console/operation"' in as_admin.get("/console/operation").content.decode()
    assert 'href="/console/operation"' not in sign_in(world.b.caseworker).get("/console/").content.decode()


def test_the_pathway_editor_is_linked_from_every_operation_page(as_admin, world):
    for url in (
        "/console/operation",
        f"/console/operation/organisations/{world.b.pk}",
        "/console/operation/import",
    ):
        assert 'href="/console/pathways"' in as_admin.get(url).content.decode()


# The list ----------------------------------------------------------------------------------


def test_the_list_shows_kind_partnership_state_agreement_and_focal_point(as_admin, world):
    expired = OrganisationFactory(
        name="Old Partner",
        acronym="OLD",
        kind=Organisation.Kind.COMMUNITY_BASED,
        partnership=Organisation.Partnership.IMPLEMENTING,
        is_active=False,
        dsa_signed_on=date(2020, 1, 1),
        dsa_expires_on=date(2021, 1, 1),
    )
    body = as_admin.get("/console/operation").content.decode()
    row = re.search(
        rf"<tr>\s*<th scope=\"row\"><a href=\"/console/operation/organisations/{expired.pk}\">.*?</tr>",
        body,
        re.S,
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))
    assert "Old Partner" in text and "Community-based organisation" in text and "Implementing partner" in text
    assert "Inactive" in text and "Expired" in text and "No focal point" in text
    row_b = re.search(rf"organisations/{world.b.pk}\">.*?</tr>", body, re.S).group(0)
    assert "Valid" in row_b and world.b.focal_point.username in row_b and "National NGO" in row_b
    assert "national_ngo" not in body and "community_based" not in body


def test_the_list_follows_the_agreement_rule_of_the_model(as_admin, world, monkeypatch):
    assert "Valid" in as_admin.get("/console/operation").content.decode()
    # a rule changed where it lives (the agreement is never valid) shows without touching the view
    monkeypatch.setattr(Organisation, "has_valid_dsa", lambda self, on=None: False)
    body = as_admin.get("/console/operation").content.decode()
    assert ">Valid<" not in body and "Expired" in body


def test_the_list_costs_the_same_queries_for_three_organisations_or_ten(
    as_admin, world, django_assert_num_queries
):
    as_admin.get("/console/operation")  # warm the session and the permission caches
    with django_assert_num_queries(6):
        as_admin.get("/console/operation")
    for _ in range(7):
        OrganisationFactory()
    with django_assert_num_queries(6):
        response = as_admin.get("/console/operation")
    assert response.content.decode().count('<th scope="row">') == 10


# Create and edit ---------------------------------------------------------------------------


def test_the_admin_creates_an_organisation(as_admin, world, admin):
    operation = world.a.operation
    response = as_admin.post(
        "/console/operation/organisations/new",
        {
            "name": "Hope Relief",
            "acronym": "HR",
            "kind": "national_ngo",
            "partnership": "operational",
            "operation": operation.pk,
        },
    )
    created = Organisation.objects.get(acronym="HR")
    assert (
        response.status_code == 302
        and response["Location"] == f"/console/operation/organisations/{created.pk}"
    )
    assert created.partnership == "operational" and created.is_active
    assert created.history.first().history_user == admin
    page = as_admin.get(response["Location"]).content.decode()
    assert "Organisation created." in page and "No agreement recorded" in page


def _create(client, world, **fields):
    data = {
        "name": "",
        "acronym": "",
        "kind": "national_ngo",
        "partnership": "none",
        "operation": world.a.operation.pk,
    }
    return client.post("/console/operation/organisations/new", {**data, **fields})


def test_a_missing_name_and_a_taken_acronym_are_shown_next_to_their_fields(as_admin, world):
    response = _create(as_admin, world, acronym="B")
    assert response.status_code == 400
    assert "This field is required." in _field_error(response.content.decode(), "id_name")

    response = _create(as_admin, world, name="Fresh name", acronym=world.b.acronym.lower())
    assert response.status_code == 409  # the service's conflict, not a 500 and not a redirect
    assert "Another organisation already has this acronym." in _field_error(
        response.content.decode(), "id_acronym"
    )
    assert not Organisation.objects.filter(name="Fresh name").exists()


def test_an_unknown_kind_is_refused_by_the_form(as_admin, world):
    response = _create(as_admin, world, name="X", acronym="X", kind="militia")
    assert response.status_code == 400
    assert "Select a valid choice." in _field_error(response.content.decode(), "id_kind")


def test_the_admin_edits_an_organisation_and_a_taken_name_is_refused(as_admin, world):
    url = f"/console/operation/organisations/{world.b.pk}/edit"
    data = {
        "name": "Organisation B renamed",
        "acronym": "B2",
        "kind": "government",
        "partnership": "implementing",
    }
    assert as_admin.post(url, data).status_code == 302
    world.b.refresh_from_db()
    assert (world.b.name, world.b.acronym, world.b.kind) == ("Organisation B renamed", "B2", "government")

    response = as_admin.post(url, {**data, "name": world.c.name})
    assert response.status_code == 400
    assert _field_error(response.content.decode(), "edit-name")
    world.b.refresh_from_db()
    assert world.b.name == "Organisation B renamed"


def test_a_missing_organisation_is_the_one_404_page(as_admin, world):
    missing = _missing_page(as_admin)
    for target in (uuid.uuid4(), "not-a-uuid"):
        response = as_admin.get(f"/console/operation/organisations/{target}")
        assert response.status_code == 404 and _main(response) == missing
        response = as_admin.post(f"/console/operation/organisations/{target}/active", {"active": "off"})
        assert response.status_code == 404 and _main(response) == missing


# Agreement -------------------------------------------------------------------------------


def test_the_admin_records_an_agreement(as_admin, world):
    organisation = OrganisationFactory(dsa_signed_on=None, dsa_expires_on=None)
    signed, expires = date.today(), date.today() + timedelta(days=365)
    response = as_admin.post(
        f"/console/operation/organisations/{organisation.pk}/agreement",
        {"signed_on": signed.isoformat(), "expires_on": expires.isoformat()},
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.dsa_signed_on, organisation.dsa_expires_on) == (signed, expires)
    assert "The data-sharing agreement is recorded." in as_admin.get(response["Location"]).content.decode()


def test_an_expiry_before_the_signature_is_shown_next_to_the_expiry(as_admin, world):
    response = as_admin.post(
        f"/console/operation/organisations/{world.b.pk}/agreement",
        {"signed_on": "2025-06-01", "expires_on": "2025-05-01"},
    )
    assert response.status_code == 400
    error = _field_error(response.content.decode(), "dsa-expires_on")
    assert "The agreement must expire after the day it was signed." in error
    response = as_admin.post(
        f"/console/operation/organisations/{world.b.pk}/agreement", {"signed_on": "yesterday"}
    )
    assert response.status_code == 400
    assert "Enter a valid date." in _field_error(response.content.decode(), "dsa-signed_on")


def test_a_rule_changed_in_the_agreement_service_shows_without_touching_the_view(
    as_admin, world, monkeypatch
):
    def refuse(**kwargs):
        raise ServiceError("Agreements are frozen during the audit.", code="dsa_frozen", field="signed_on")

    monkeypatch.setattr(services, "organisation_record_dsa", refuse)
    response = as_admin.post(
        f"/console/operation/organisations/{world.b.pk}/agreement", {"signed_on": "2025-01-01"}
    )
    assert response.status_code == 400
    assert "Agreements are frozen during the audit." in _field_error(
        response.content.decode(), "dsa-signed_on"
    )


# Focal point -------------------------------------------------------------------------------


def test_the_admin_invites_a_new_focal_point_who_is_mailed_the_activation_link(
    as_admin, world, mailoutbox, django_capture_on_commit_callbacks
):
    organisation = OrganisationFactory(name="Hope Relief", acronym="HR")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(
            f"/console/operation/organisations/{organisation.pk}/focal-point",
            {
                "username": "amina.hr",
                "create_user": "on",
                "email": "amina@hope.example",
                "first_name": "Amina",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="amina.hr")
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user, is_active=True).role == Membership.Role.FOCAL_POINT
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["amina@hope.example"]
    page = as_admin.get(response["Location"]).content.decode()
    assert "The activation link was e-mailed to them." in page
    assert "has not activated the account yet" in page and "Send a new activation link" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(f"/console/operation/organisations/{organisation.pk}/activation-link")
    assert response.status_code == 302 and len(mailoutbox) == 2


def test_handing_over_makes_the_previous_focal_point_a_caseworker(as_admin, world):
    previous, successor = world.b.focal_point, world.b.caseworker
    response = as_admin.post(
        f"/console/operation/organisations/{world.b.pk}/focal-point", {"username": successor.username}
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=previous, is_active=True).role == Membership.Role.CASEWORKER
    assert Membership.objects.get(user=successor, is_active=True).role == Membership.Role.FOCAL_POINT


@pytest.mark.parametrize(
    ("data", "field", "status", "words"),
    [
        ({"username": "nobody"}, "fp-username", 400, "There is no account with this username."),
        ({"username": "new.person", "create_user": "on"}, "fp-email", 400, "An e-mail address is needed"),
        (
            {"username": "x", "create_user": "on", "email": "not-mail"},
            "fp-email",
            400,
            "Enter a valid email address.",
        ),
        ({"username": "{c_caseworker}"}, "fp-username", 409, "an active member of another organisation"),
    ],
)
def test_focal_point_refusals_are_shown_next_to_their_field(as_admin, world, data, field, status, words):
    data = {key: value.format(c_caseworker=world.c.caseworker.username) for key, value in data.items()}
    response = as_admin.post(f"/console/operation/organisations/{world.b.pk}/focal-point", data)
    assert response.status_code == status
    assert words in _field_error(response.content.decode(), field)
    assert (
        Membership.objects.get(organisation=world.b, role="focal_point", is_active=True).user
        == world.b.focal_point
    )


# Deactivate --------------------------------------------------------------------------------


def test_the_admin_deactivates_and_reactivates_an_organisation(as_admin, world):
    url = f"/console/operation/organisations/{world.c.pk}/active"
    assert as_admin.post(url, {"active": "off"}).status_code == 302
    world.c.refresh_from_db()
    assert not world.c.is_active
    page = as_admin.get(f"/console/operation/organisations/{world.c.pk}").content.decode()
    assert "Reactivate the organisation" in page
    assert as_admin.post(url, {"active": "on"}).status_code == 302
    world.c.refresh_from_db()
    assert world.c.is_active
    assert as_admin.post(url, {"active": "maybe"}).status_code == 400


# HSDS import -------------------------------------------------------------------------------


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def _example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def _staged(settings) -> list:
    root = uploads._root()
    return [path for path in root.iterdir()]


def test_the_dry_run_shows_what_would_change_and_saves_nothing(as_admin, world, settings):
    before = snapshot()
    response = as_admin.post(
        "/console/operation/import", {"files": _upload("service.json", _example("service_full.json"))}
    )
    assert response.status_code == 200
    assert snapshot() == before  # every row and every history row of every table the import writes
    body = response.content.decode()
    assert "Dry run: nothing was saved." in body
    organisations_row = re.search(r"<th scope=\"row\">Organisations</th><td>(\d+)</td>", body)
    services_row = re.search(r"<th scope=\"row\">Services</th><td>(\d+)</td>", body)
    assert organisations_row.group(1) == "1" and services_row.group(1) == "1"
    assert "service.json" in body

    token = re.search(r'name="upload" value="([^"]+)"', body).group(1)
    response = as_admin.post("/console/operation/import/run", {"upload": token, "operation": ""})
    assert response.status_code == 200
    assert "The import is saved" in response.content.decode()
    imported = Organisation.objects.get(pk=ORGANIZATION_ID)
    assert imported.is_active is False  # an import never opens a referral channel
    assert Service.objects.filter(organisation=imported).count() == 1
    assert _staged(settings) == []  # the staged file is gone once imported
    # the same upload cannot be imported twice
    assert as_admin.post("/console/operation/import/run", {"upload": token}).status_code == 404


def test_the_tabular_package_imports_from_csv_files_or_a_zip(as_admin, world):
    files = sorted((EXAMPLES / "csv").glob("*.csv"))
    before = snapshot()
    response = as_admin.post(
        "/console/operation/import", {"files": [_upload(f.name, f.read_bytes()) for f in files]}
    )
    assert response.status_code == 200, response.content.decode()[:3000]
    assert snapshot() == before
    csv_body = response.content.decode()

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in files:
            zipped.write(file, f"package/{file.name}")
    response = as_admin.post(
        "/console/operation/import", {"files": _upload("package.zip", archive.getvalue())}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert re.findall(r"<td>\d+</td>", body) == re.findall(r"<td>\d+</td>", csv_body)
    token = re.search(r'name="upload" value="([^"]+)"', body).group(1)
    assert as_admin.post("/console/operation/import/run", {"upload": token}).status_code == 200
    assert snapshot() != before


def test_a_bad_file_is_refused_with_where_and_why_and_nothing_is_saved(as_admin, world):
    before = snapshot()
    document = json.loads(_example("service_full.json"))
    del document["name"]
    response = as_admin.post(
        "/console/operation/import", {"files": _upload("broken.json", json.dumps(document).encode())}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The file was not imported; nothing was saved" in body
    assert "broken.json" in body
    assert _field_error(body, "id_files")
    assert snapshot() == before

    response = as_admin.post("/console/operation/import", {"files": _upload("notes.txt", b"hello")})
    assert response.status_code == 400
    assert "notes.txt" in response.content.decode()
    response = as_admin.post("/console/operation/import", {})
    assert response.status_code == 400
    assert "This field is required." in _field_error(response.content.decode(), "id_files")


def test_with_several_operations_the_import_asks_which_one(as_admin, world):
    OperationFactory(name="Second operation")
    response = as_admin.post(
        "/console/operation/import", {"files": _upload("s.json", _example("service_full.json"))}
    )
    assert response.status_code == 400
    assert "Choose the operation" in _field_error(response.content.decode(), "id_operation")


def test_another_admins_upload_cannot_be_run(as_admin, world, client):
    response = as_admin.post(
        "/console/operation/import", {"files": _upload("s.json", _example("service_full.json"))}
    )
    token = re.search(r'name="upload" value="([^"]+)"', response.content.decode()).group(1)
    other = PlatformAdminFactory()
    client.logout()
    client.post(
        "/console/sign-in",
        {
            "username": other.username,
            "password": "correct-horse-battery-staple",
            "otp": totp_code(confirmed_totp_device(other)),
        },
    )
    before = snapshot()
    response = client.post("/console/operation/import/run", {"upload": token})
    assert response.status_code == 404
    assert snapshot() == before


def test_a_rule_changed_in_the_importer_shows_without_touching_the_view(as_admin, world, monkeypatch):
    from partners.hsds import imports
    from partners.hsds.errors import HsdsImportError, Source

    def refuse(**kwargs):
        raise HsdsImportError(
            "services need a phone", source=Source("service.json", "document 1"), field="phones"
        )

    monkeypatch.setattr(imports, "hsds_import", refuse)
    response = as_admin.post(
        "/console/operation/import", {"files": _upload("service.json", _example("service_full.json"))}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "services need a phone" in body and "document 1" in body and "<code>phones</code>" in body
