"""gunicorn as a real subprocess on 127.0.0.1, with the production settings (``DEBUG`` off).

The listening socket is bound here, to port 0 of 127.0.0.1 (the kernel picks a free port), and
handed to gunicorn as ``fd://N``: no other process can take the port between choosing and
binding it, and nothing listens beyond the loopback address. gunicorn runs in a session of its
own; ``stop()`` asks the master to finish (SIGTERM: workers end their requests), kills the group
if it has not within the grace time, and fails if any process of the group is left.

``tree_cpu_seconds`` reads what a process and its children used of the processor (Linux ``/proc``):
on a shared machine, the server's CPU time per request says more than its wall-clock rate.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
GRACE_SECONDS = 20
PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """In a child before it runs: the kernel sends it SIGTERM when the process that started it dies,
    even by SIGKILL, so that no server or load generator outlives a killed soak (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    def __init__(self, *, database_url: str, workers: int, log: Path):
        self.database_url = database_url
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None
        self.socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.socket.getsockname()[1]}"

    def start(self) -> Server:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind((HOST, 0))
        self.socket.listen(2048)
        fd = self.socket.fileno()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DEBUG", "GUNICORN_CMD_ARGS", "DATABASE_URL"}
        }
        env.update(
            DATABASE_URL=self.database_url,
            DEBUG="0",
            PYTHONUNBUFFERED="1",
            # WhiteNoise's reminder that `collectstatic` has not run: the soak asks for no static file
            PYTHONWARNINGS="ignore:No directory at:UserWarning",
        )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "hub.wsgi:application",
                    f"--bind=fd://{fd}",
                    f"--workers={self.workers}",
                    "--worker-class=sync",
                    "--timeout=30",
                    f"--graceful-timeout={GRACE_SECONDS // 2}",
                    "--log-level=warning",
                    "--error-logfile=-",
                    "--no-control-socket",  # gunicorn 27 would put one in ~/.gunicorn, shared by all
                ],
                cwd=ROOT,
                env=env,
                pass_fds=(fd,),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=end_with_parent,  # safe: the soak runs no other thread while it forks
            )
        return self

    def wait_ready(self, token: str, timeout: float = 90) -> None:
        """Until a request with ``token`` answers 200 (the workers have loaded the application)."""
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1, built here
            f"{self.url}/api/v1/me",
            headers={"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"},
        )
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own URL
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            group = self.process.pid  # the session leader: its id is the group's
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    os.killpg(group, signal.SIGKILL)
                    self.process.wait(timeout=GRACE_SECONDS)
            self.process = None
            if _group_alive(group):
                os.killpg(group, signal.SIGKILL)
                raise RuntimeError("gunicorn left processes behind after its master exited; killed them")
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 on), or None if unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used by ``pid``, by its children that have ended and been waited for, and by its
    live children; None where /proc cannot tell (not Linux, another machine)."""
    fields = _stat(pid)
    if fields is None:
        return None
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (child := _stat(int(entry.name))) and int(child[1]) == pid:
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")
