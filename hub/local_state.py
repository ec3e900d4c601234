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
    uri = server.get_uri()
    if tune_embedded_database(uri) and _sole_holder(server):
        _restart(server)
    return uri


def _sole_holder(server) -> bool:
    """Whether no other living process holds the embedded server (pgserver's list of holders keeps
    the pids of processes that were killed: those do not count)."""
    import psutil

    others = [pid for pid in server.global_process_id_list.get() if pid != os.getpid()]
    return not any(psutil.pid_exists(pid) for pid in others)


def _restart(server) -> None:
    """Restart the embedded server so that settings needing a restart apply now."""
    from pgserver._commands import pg_ctl

    pg_ctl(
        ["-w", "-m", "fast", "-l", str(server.log), "restart"], pgdata=server.pgdata, user=server.system_user
    )


def embedded_settings(memory_bytes: int | None = None, cores: int | None = None) -> dict[str, str]:
    """PostgreSQL settings for this machine (pgserver starts with PostgreSQL's defaults, sized for
    a machine of 2005: 128 MB of shared buffers, 4 MB of work memory, a spinning disk).

    ``HUB_PG_MEMORY_MB`` says how much memory the database may plan with (default: all of it);
    a quarter goes to shared buffers (at most 8 GB), three quarters are counted as cache."""
    if memory_bytes is None:
        override = os.environ.get("HUB_PG_MEMORY_MB", "").strip()
        if override:
            memory_bytes = int(override) * 1024 * 1024
        else:
            memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cores = cores or os.cpu_count() or 2
    mb = max(256, memory_bytes // (1024 * 1024))

    def clamp(value: int, low: int, high: int) -> str:
        return f"{max(low, min(high, value))}MB"

    return {
        "shared_buffers": clamp(mb // 4, 128, 8192),
        "effective_cache_size": clamp(mb * 3 // 4, 512, 1 << 20),
        "work_mem": clamp(mb // 400, 4, 64),  # per sort or hash, per query: about 100 connections, a few each
        "maintenance_work_mem": clamp(mb // 16, 64, 2048),
        "random_page_cost": "1.1",  # solid-state storage: an index probe costs little more than a scan
        "effective_io_concurrency": "200",
        "max_parallel_workers_per_gather": str(max(0, min(4, cores // 2))),
    }


def tune_embedded_database(uri: str) -> bool:
    """Write :func:`embedded_settings` with ALTER SYSTEM where they differ and reload. Every
    setting but ``shared_buffers`` applies at once; ``shared_buffers`` needs a restart. Returns
    whether one is pending (the caller restarts the server when nobody else holds it)."""
    import psycopg

    wanted = embedded_settings()
    with psycopg.connect(uri, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", [list(wanted)]
        ).fetchall()
        current = {name: _in_mb(setting, unit) for name, setting, unit in rows}
        changed = False
        for name, value in wanted.items():
            if current.get(name) != (value.removesuffix("MB") if value.endswith("MB") else value):
                connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")  # names and values are ours
                changed = True
        if changed:
            connection.execute("SELECT pg_reload_conf()")
        pending = connection.execute("SELECT bool_or(pending_restart) FROM pg_settings").fetchone()[0]
    return bool(pending)


def _in_mb(setting: str, unit: str | None) -> str:
    """A memory setting in MB (pg_settings counts in 8 kB pages or kB), others as they are."""
    if unit == "8kB":
        return str(int(setting) * 8 // 1024)
    if unit == "kB":
        return str(int(setting) // 1024)
    return setting


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
