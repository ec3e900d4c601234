"""Where the project keeps machine-local state: the embedded database and demo secrets.

Everything here lives under ``var/`` (git-ignored). Production sets ``DATABASE_URL``,
``SECRET_KEY`` and the other secrets in the environment and never touches this folder.
"""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HUB_VAR_DIR", BASE_DIR / "var"))


def local_secret(name: str, factory=lambda: secrets.token_urlsafe(50)) -> str:
    """A secret generated once on this machine and reused on later runs (demo and tests only)."""
    VAR_DIR.mkdir(mode=0o700, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(factory())
    return path.read_text().strip()


def embedded_database_url() -> str:
    """Start (or join) the private PostgreSQL kept in ``var/pgdata`` and return its socket URL.

    pgserver counts the processes holding a handle and stops the server cleanly when the last
    one exits, so ``manage.py`` commands, the dev server and test workers can share it.
    """
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    VAR_DIR.mkdir(mode=0o700, exist_ok=True)
    server = pgserver.get_server(VAR_DIR / "pgdata", cleanup_mode="stop")
    return server.get_uri()
