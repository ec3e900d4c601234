"""Uploaded HSDS files kept between the dry run and the import: laid out as the importer reads
them, refused when the importer could not read them, and only ever for the admin who uploaded."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from common.errors import NotFound, PermissionDenied
from partners.hsds import uploads
from partners.hsds.errors import HsdsImportError
from partners.hsds.imports import hsds_import
from tests.factories import PlatformAdminFactory
from tests.hsds.conftest import EXAMPLES


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):
    settings.HSDS_UPLOAD_DIR = str(tmp_path)


def _zip(members: dict) -> SimpleUploadedFile:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    return SimpleUploadedFile("package.zip", archive.getvalue())


def test_a_zip_is_laid_out_flat_and_imports_like_the_folder(platform_admin, operation):
    members = {f"deep/../{path.name}": path.read_bytes() for path in (EXAMPLES / "csv").glob("*.csv")}
    token = uploads.hsds_upload_stage(actor=platform_admin, files=[_zip(members)])
    folder = uploads.hsds_upload_path(actor=platform_admin, token=token)
    assert folder.parent == uploads._root()
    assert uploads.hsds_upload_files(actor=platform_admin, token=token) == sorted(
        path.name for path in (EXAMPLES / "csv").glob("*.csv")
    )
    assert hsds_import(path=folder, actor=platform_admin, dry_run=True).changes > 0


def test_only_the_uploader_gets_the_upload_back(platform_admin, db):
    token = uploads.hsds_upload_stage(
        actor=platform_admin,
        files=[SimpleUploadedFile("s.json", (EXAMPLES / "service_full.json").read_bytes())],
    )
    other = PlatformAdminFactory()
    with pytest.raises(NotFound):
        uploads.hsds_upload_path(actor=other, token=token)
    with pytest.raises(NotFound):
        uploads.hsds_upload_path(actor=platform_admin, token="../" + token)
    uploads.hsds_upload_discard(actor=platform_admin, token=token)
    with pytest.raises(NotFound):
        uploads.hsds_upload_path(actor=platform_admin, token=token)


def test_what_the_importer_cannot_read_is_refused_by_name(platform_admin, settings):
    with pytest.raises(HsdsImportError, match=r"notes\.txt") as refused:
        uploads.hsds_upload_stage(actor=platform_admin, files=[SimpleUploadedFile("notes.txt", b"x")])
    assert refused.value.code == "hsds_unknown_format"
    with pytest.raises(HsdsImportError) as refused:
        uploads.hsds_upload_stage(actor=platform_admin, files=[SimpleUploadedFile("a.zip", b"not a zip")])
    assert refused.value.code == "hsds_unknown_format"
    settings.HSDS_IMPORT_MAX_BYTES = 10
    # a zip member larger than the limit is refused before it is written out
    with pytest.raises(HsdsImportError) as refused:
        uploads.hsds_upload_stage(
            actor=platform_admin, files=[_zip({"services.csv": "id,name\n" + "x" * 100})]
        )
    assert refused.value.code == "hsds_file_too_large"
    assert list(uploads._root().iterdir()) == []  # nothing left behind


def test_only_platform_admins_upload(org_a):
    with pytest.raises(PermissionDenied):
        uploads.hsds_upload_stage(actor=org_a.focal_point, files=[SimpleUploadedFile("s.json", b"{}")])
