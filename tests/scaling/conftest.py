import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from psycopg.conninfo import make_conninfo

from tests.scaling.postgres import BIN, Server

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "hub_template"
# the rows `migrate` writes: no migration writes data; post_migrate adds content types and permissions
MIGRATION_ROWS = ("django_migrations", "django_content_type", "auth_permission")


def _test_database_conninfo() -> str:
    settings = connection.settings_dict
    parameters = {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        # the embedded server's socket folder comes as OPTIONS["host"] (dj-database-url's parse)
        "host": settings["HOST"] or settings["OPTIONS"].get("host"),
        "port": settings["PORT"],
    }
    return make_conninfo(**{name: value for name, value in parameters.items() if value})


def _client(program: str, *args) -> None:
    """A PostgreSQL client program (pg_dump, pg_restore), as whoever runs the tests."""
    result = subprocess.run([BIN / program, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{program} failed:\n{result.stderr}"


def _migrate(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "DATABASE_REPLICA_URLS": "", "DATABASE_POOLER": ""},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"migrate failed:\n{result.stderr}"


@pytest.fixture(scope="session")
def primary(django_db_setup, django_db_blocker, tmp_path_factory) -> Server:
    """A PostgreSQL of these tests' own on 127.0.0.1 (replication allowed, as initdb sets it up),
    holding ``hub_template``: what migrating creates, copied with pg_dump from this worker's test
    database (seconds, where migrating afresh takes several times longer) — its schema, and the rows
    migrating writes. Rows other tests may have left in it stay behind. A test database on a newer
    PostgreSQL than the embedded one (a DATABASE_URL of your own), which its pg_dump cannot read, is
    migrated afresh instead. Stopped and removed at the end."""
    # pytest-django makes the test database only for a session with a test marked django_db (the
    # tests here are): without one, this would copy whatever database the settings name
    assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]
    server = Server.create("primary").start(wal_level="replica")
    try:
        server.query(f"CREATE DATABASE {TEMPLATE}")
        with django_db_blocker.unblock():
            test_server_major = connection.pg_version // 10000
        if test_server_major > int(server.query("SHOW server_version_num")[0]) // 10000:
            _migrate(server.url(TEMPLATE))
        else:
            folder = tmp_path_factory.mktemp("dump")
            source = ("--no-owner", "--no-privileges", "-d", _test_database_conninfo())
            _client("pg_dump", "--format=custom", "--schema-only", "-f", folder / "schema", *source)
            tables = [f"--table={table}" for table in MIGRATION_ROWS]
            _client("pg_dump", "--format=custom", "--data-only", *tables, "-f", folder / "rows", *source)
            for part in ("schema", "rows"):
                _client(
                    "pg_restore", "--no-owner", "--no-privileges", "-d", server.url(TEMPLATE), folder / part
                )
        yield server
    finally:
        server.stop()


def database_from_template(server: Server, name: str) -> str:
    server.query(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return name


def run_scenario(name: str, **environment: str) -> dict:
    """``python -m tests.scaling.scenario NAME`` in a process of its own; its observations."""
    import json

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_REPLICA_URLS": "",
        "DATABASE_POOLER": "",
        "LOG_LEVEL": "ERROR",
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.scaling.scenario", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"scenario {name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
