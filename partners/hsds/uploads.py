"""Files uploaded for an HSDS import, kept between the dry run and the import itself.

A platform admin uploads a JSON file, one or more CSV files of the tabular package, or a zip of
them; ``hsds_upload_stage`` lays them out as the folder ``hsds_import`` reads, and the same folder is
imported once the admin has seen the dry run. A staged upload belongs to the admin who made it:
another account asking for it gets "not found", as for a token that never existed.

The folder lives under ``HSDS_UPLOAD_DIR`` (default: the system's temporary folder) on the web
server that received it; staged uploads older than a day are removed when another is staged.
"""

import re
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from django.conf import settings

from common.errors import NotFound, PermissionDenied
from partners.hsds.errors import HsdsImportError, Source
from partners.hsds.reader import max_bytes
from partners.selectors import is_platform_admin

KEPT_FOR_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_OWNER_FILE = ".owner"
_SUFFIXES = (".json", ".csv")


def _root() -> Path:
    root = Path(getattr(settings, "HSDS_UPLOAD_DIR", "") or tempfile.gettempdir()) / "referral-hub-hsds"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _safe_name(name: str) -> str:
    # only the file's own name: a zip member "../../x.csv" or "a/b.csv" lands as "x.csv" / "b.csv"
    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name)
    return base.lstrip(".") or "file"


def _too_large(name: str, size: int) -> HsdsImportError:
    return HsdsImportError(
        f"the file is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes() / 1024 / 1024:.0f} MB "
        "(HSDS_IMPORT_MAX_BYTES). Split the file and import the parts.",
        source=Source(name, "whole file"),
        field="files",
        code="hsds_file_too_large",
    )


def _copy_limited(source, target: Path, name: str) -> None:
    """Copy at most ``max_bytes()``: a zip member's declared size can lie."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > max_bytes():
                raise _too_large(name, written)
            out.write(chunk)


def _unpack_zip(upload, folder: Path) -> None:
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        raise HsdsImportError(
            "not a readable zip archive",
            source=Source(upload.name, "whole file"),
            field="files",
            code="hsds_unknown_format",
        ) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(_SUFFIXES)]
        if not members:
            raise HsdsImportError(
                "the archive holds no .json or .csv file",
                source=Source(upload.name, "whole file"),
                field="files",
                code="hsds_not_found",
            )
        for member in members:
            if member.file_size > max_bytes():
                raise _too_large(member.filename, member.file_size)
            with archive.open(member) as source:
                _copy_limited(source, folder / _safe_name(member.filename), member.filename)


def _purge_old(root: Path) -> None:
    limit = time.time() - KEPT_FOR_SECONDS
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            continue  # another request removed it first


def hsds_upload_stage(*, actor, files) -> str:
    """Keep ``files`` (uploaded files: ``.name``, ``.size``, file-like) for an import; returns the
    token that names them. Refuses what the importer could not read, naming the file."""
    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins may import a directory.", code="platform_admin_required")
    if not files:
        raise HsdsImportError("choose a file to import", field="files", code="hsds_not_found")
    for upload in files:
        if not upload.name.lower().endswith((*_SUFFIXES, ".zip")):
            raise HsdsImportError(
                "give a .json file, the .csv files of the tabular package, or a .zip of them",
                source=Source(_safe_name(upload.name), "whole file"),
                field="files",
                code="hsds_unknown_format",
            )
        if upload.size > max_bytes():
            raise _too_large(_safe_name(upload.name), upload.size)
    root = _root()
    _purge_old(root)
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir(mode=0o700)
    try:
        for upload in files:
            if upload.name.lower().endswith(".zip"):
                _unpack_zip(upload, folder)
            else:
                _copy_limited(upload, folder / _safe_name(upload.name), _safe_name(upload.name))
        (folder / _OWNER_FILE).write_text(str(actor.pk), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return token


def hsds_upload_path(*, actor, token: str) -> Path:
    """The folder of a staged upload of ``actor``'s; anyone else's, or a spent one, is not found."""
    folder = _root() / token if _TOKEN.match(token or "") else None
    owner = folder / _OWNER_FILE if folder else None
    if owner is None or not owner.is_file() or owner.read_text(encoding="utf-8") != str(actor.pk):
        raise NotFound("This upload is no longer available; upload the file again.")
    return folder


def hsds_upload_files(*, actor, token: str) -> list[str]:
    """The names of the files a staged upload holds, as the importer will read them."""
    folder = hsds_upload_path(actor=actor, token=token)
    return sorted(path.name for path in folder.iterdir() if path.name != _OWNER_FILE)


def hsds_upload_discard(*, actor, token: str) -> None:
    shutil.rmtree(hsds_upload_path(actor=actor, token=token), ignore_errors=True)
