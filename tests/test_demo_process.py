"""`make demo` as a process: it serves on the port it was given, runs a worker beside the web server,
says where delivered messages can be read once the server accepts connections, and on Ctrl-C
leaves nothing running — web server, worker, or the embedded PostgreSQL of its data directory,
even when a dead process is still listed as holding that database.

The demo runs in a temporary data directory (HUB_VAR_DIR), never the developer's var/. It starts
with --no-setup on a database that has only the job tables, so that the test measures starting
and stopping rather than migrating and loading (tests/test_demo.py covers load_demo)."""

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil

from hub.local_state import BASE_DIR

STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_until(process: subprocess.Popen, marker: str, seconds: float) -> str:
    """The demo's output up to the line holding ``marker``, waiting at most ``seconds``."""
    seen, deadline = [], time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=1):
                if process.poll() is not None:
                    break
                continue
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if marker in line:
                return "".join(seen)
    raise AssertionError(f"no {marker!r} from the demo:\n" + "".join(seen))


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_demo_serves_with_a_worker_and_ctrl_c_leaves_nothing_running(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(HUB_VAR_DIR=str(var), DEBUG="1")
    # a fresh embedded database with the job tables (the worker registers itself there)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "procrastinate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=STARTUP_SECONDS,
    )
    # a process killed before its exit handlers ran is still listed as holding the database; the
    # demo must not wait for it to let the database stop
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (var / "pgdata" / ".handle_pids.json").write_text(json.dumps([dead.pid]))
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "hub.demo", "--port", str(port), "--no-setup"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        before = read_until(demo, "Serving", STARTUP_SECONDS)
        # the line comes once the server accepts connections, never before
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/", timeout=10) as response:
            assert response.status == 200
        output = before + read_until(demo, "Ctrl-C", 10)
        assert f"http://127.0.0.1:{port}/api/" in output
        assert f"{var / 'mail'}/" in output and str(var / "sms.log") in output

        processes = psutil.Process(demo.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in processes]
        assert any("runserver" in c for c in commands) and any("run_worker" in c for c in commands)
        assert all(alive(p.pid) for p in processes)
        postmaster = int((var / "pgdata" / "postmaster.pid").read_text().split()[0])
        assert alive(postmaster)

        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=60)
        assert demo.returncode == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()

    assert [p.pid for p in processes if alive(p.pid)] == []
    assert not alive(postmaster)
    assert not (var / "pgdata" / "postmaster.pid").exists()
    handles = var / "pgdata" / ".handle_pids.json"
    assert not handles.exists() or json.loads(handles.read_text()) == []
    with socket.socket() as probe:  # nothing listens on the port any more (TIME_WAIT is no listener)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
