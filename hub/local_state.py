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


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver lists the processes holding the server in ``.handle_pids.json`` and stops it when
    the last of them exits. A process killed before its exit handlers ran stays listed, and the
    server would then never stop: drop the pids of processes that are gone before joining."""
    path = pgdata / ".handle_pids.json"
    if not path.exists():
        return
    import psutil
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    with PostgresServer._lock:  # the lock pgserver itself takes around the list
        handles = DiskList(path)
        handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])


def embedded_database_url() -> str:
    """Start (or join) the private PostgreSQL kept in ``var/pgdata`` and return its socket URL.

    pgserver counts the processes holding a handle and stops the server cleanly when the last
    one exits, so ``manage.py`` commands, the dev server and test workers can share it.
    """
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    VAR_DIR.mkdir(mode=0o700, exist_ok=True)
    _forget_dead_handles(VAR_DIR / "pgdata")
    server = pgserver.get_server(VAR_DIR / "pgdata", cleanup_mode="stop")
    return server.get_uri()


def hold_embedded_database() -> None:
    """``python -m hub.local_state``: start the embedded server, print its URL, and keep it until
    standard input closes (or SIGTERM); then stop it, unless another process still holds it.
    ``make demo`` (``hub.demo``) starts this in a session of its own, so that the terminal's Ctrl-C
    reaches the web server and the worker first and the database stops last."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # exit handlers run: pgserver stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(embedded_database_url(), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    hold_embedded_database()
