"""Throw-away PostgreSQL servers and a pgbouncer, for the tests that need more than the shared test
server: a streaming replica, a transaction-mode pooler.

The servers run from the embedded PostgreSQL's own binaries (the ``pgserver`` wheel), each in a
temporary folder, listening on a free TCP port of 127.0.0.1 only (no Unix socket). ``stop()`` stops
a process and removes its folder. PostgreSQL and pgbouncer refuse to run as root: as root (CI) they
run, as pgserver runs its own server, as the system user ``pgserver``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import pgserver
import psutil
import psycopg

BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"
SYSTEM_USER = "pgserver" if os.geteuid() == 0 else None
# how long a server may take to start or to catch up on a busy 2-core machine: a bound on waiting,
# not a measurement
PATIENCE = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def workspace(name: str) -> Path:
    """A new folder under the system's temporary folder, owned by whoever runs the servers."""
    path = Path(tempfile.mkdtemp(prefix=f"hub-{name}-"))
    if SYSTEM_USER is not None:
        import pwd

        from pgserver.utils import ensure_user_exists

        ensure_user_exists(SYSTEM_USER)
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def run(*args) -> None:
    """A server-side command (initdb, pg_ctl, pg_basebackup) as the servers' user. Its output goes
    to a file, not a pipe: a server started by pg_ctl could hold a pipe open after pg_ctl exits."""
    with tempfile.TemporaryFile("w+") as output:
        result = subprocess.run(
            [str(arg) for arg in args],
            user=SYSTEM_USER,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=PATIENCE,
        )
        if result.returncode != 0:
            output.seek(0)
            raise AssertionError(f"{Path(str(args[0])).name} failed ({result.returncode}):\n{output.read()}")


def running(pid: int | None) -> bool:
    """The process exists and has not exited. An exited server whose parent (pg_ctl, gone) left it
    to the system's init waits there as a zombie until init collects it: it runs no more."""
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def remove(folder: Path) -> None:
    """Remove the folder, again while a process that just exited still had a file appear in it."""

    def removed() -> bool:
        shutil.rmtree(folder, ignore_errors=True)
        return not folder.exists()

    wait_until(removed, f"{folder} to be removed")


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


class Server:
    """One PostgreSQL cluster in ``folder/data``, run with ``pg_ctl``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port: int | None = None

    @classmethod
    def create(cls, name: str) -> Server:
        server = cls(workspace(name))
        # trust on 127.0.0.1, replication connections included (initdb's pg_hba.conf lines)
        run(BIN / "initdb", "-D", server.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return server

    def start(self, **parameters: str) -> Server:
        self.port = free_port()
        options = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "''",
            "fsync": "off",  # a test cluster: losing it in a crash is fine
            **parameters,
        }
        pg_ctl_options = " ".join(f"-c {name}={value}" for name, value in options.items())
        # pg_ctl's -l sends the server's output to the log, so no pipe of ours stays open behind it
        try:
            run(
                BIN / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.log,
                "-w",
                "-t",
                PATIENCE,
                "-o",
                pg_ctl_options,
                "start",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log.read_text() if self.log.exists() else ''}") from exc
        return self

    @property
    def pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return None
        return int(pidfile.read_text().split("\n", 1)[0])

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=PATIENCE)

    def query(self, sql: str, *params, database: str = "postgres"):
        with self.connect(database) as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchone() if cursor.description else None

    def stop(self) -> None:
        """Stop the server (if running) and remove its folder; no process of it is left."""
        pid = self.pid
        if running(pid):
            with suppress(AssertionError):
                # immediate: no shutdown checkpoint, the folder is removed next
                run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", PATIENCE, "stop")
            if running(pid):  # pg_ctl could not stop it
                with suppress(psutil.NoSuchProcess):
                    psutil.Process(pid).kill()
            wait_until(lambda: not running(pid), f"server {pid} to exit")
        remove(self.folder)


def wal_insert_position(primary: Server) -> str:
    return primary.query("SELECT pg_current_wal_insert_lsn()::text")[0]


def replica_of(primary: Server) -> Server:
    """A hot standby streaming from ``primary``: a base backup, ``primary_conninfo`` and
    ``standby.signal``, started on a port of its own. Returns once it accepts read-only queries."""
    replica = Server(workspace("replica"))
    run(
        BIN / "pg_basebackup",
        "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres",
        "-D", replica.data, "--wal-method=stream", "--checkpoint=fast", "--no-sync",
    )  # fmt: skip
    conninfo = f"host=127.0.0.1 port={primary.port} user=postgres application_name=replica"
    with (replica.data / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"primary_conninfo = '{conninfo}'\n")
    (replica.data / "standby.signal").touch()
    if SYSTEM_USER is not None:
        shutil.chown(replica.data / "standby.signal", SYSTEM_USER, SYSTEM_USER)
    return replica.start(hot_standby="on")


def wait_for_replay(primary: Server, replica: Server) -> None:
    """Until the replica has replayed everything the primary had written when this was called."""
    target = wal_insert_position(primary)

    def replayed() -> bool:
        return replica.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)[0] is True

    wait_until(replayed, f"the replica to replay up to {target}")


def pgbouncer_binary() -> str:
    """pgbouncer from the system (Debian's package; `make test` installs it when missing)."""
    found = shutil.which("pgbouncer", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin")
    assert found, "pgbouncer is not installed: `apt-get install pgbouncer` (make test does it as root)"
    return found


class Pgbouncer:
    """pgbouncer in transaction mode in front of ``server``. It resets every server connection when
    a transaction ends (DISCARD ALL): state a client left in a session — a cursor, a prepared
    statement, a setting — is gone at once, as it would be, sooner or later, on a busy pooler."""

    def __init__(self, server: Server):
        self.server = server
        self.folder = workspace("pgbouncer")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        config = self.folder / "pgbouncer.ini"
        config.write_text(
            f"""[databases]
* = host=127.0.0.1 port={server.port} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = any
admin_users = postgres
pool_mode = transaction
server_reset_query = DISCARD ALL
server_reset_query_always = 1
default_pool_size = 4
max_client_conn = 100
logfile = {self.folder / "pgbouncer.log"}
"""
        )
        if SYSTEM_USER is not None:
            shutil.chown(config, SYSTEM_USER, SYSTEM_USER)
        self.config = config

    def start(self) -> Pgbouncer:
        self.process = subprocess.Popen(
            [pgbouncer_binary(), "-q", str(self.config)],
            user=SYSTEM_USER,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def listening() -> bool:
            assert self.process.poll() is None, f"pgbouncer exited:\n{self.log()}"
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(listening, "pgbouncer to listen")
        return self

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def show(self, what: str) -> list[tuple]:
        """A SHOW command of pgbouncer's admin console (simple query protocol, as it asks)."""
        with (
            psycopg.connect(self.url("pgbouncer"), autocommit=True) as console,
            psycopg.ClientCursor(console) as cursor,
        ):
            cursor.execute(f"SHOW {what}")
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(PATIENCE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        remove(self.folder)
