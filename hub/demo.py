"""``make demo``: the demo operation served by a web server and a job worker, in one command.

``python -m hub.demo [--port 8000] [--no-setup]`` (``PORT`` in the environment works too):

1. unless ``DATABASE_URL`` is set, starts the embedded PostgreSQL (``hub.local_state``) in a
   process and session of its own: Ctrl-C in the terminal then reaches this supervisor, not the
   database, which must stop last;
2. migrates and loads the demo (``--no-setup`` skips both, for a database already set up);
3. starts ``runserver`` and ``run_worker``, each in its own process group, and prints the URLs
   once the server accepts connections, and where the delivered messages can be read;
4. on Ctrl-C (SIGINT) or SIGTERM, or when either child dies, stops both (SIGINT, then SIGKILL
   after a grace period), then lets the database go: it stops when no process holds it.

This module imports no Django settings: loading them would start the database here, in the
terminal's process group.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hub.local_state import BASE_DIR, VAR_DIR

GRACE_SECONDS = 10
STARTUP_SECONDS = 120


class Demo:
    def __init__(self, port: int) -> None:
        self.port = port
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.database: subprocess.Popen | None = None
        self.stopping = False
        self.env = dict(os.environ, DEBUG="1", PYTHONUNBUFFERED="1")
        self.env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
        # a partner system on this machine may receive webhooks over http://127.0.0.1 in the demo
        self.env.setdefault("WEBHOOKS_ALLOW_LOOPBACK", "1")
        # the console's persona page (/console/demo): one-click sign-in as a demo person, demo only
        self.env.setdefault("DEMO_MODE", "1")

    def say(self, text: str) -> None:
        print(text, flush=True)

    # the database ------------------------------------------------------------------------
    def start_database(self) -> None:
        if self.env.get("DATABASE_URL"):
            return
        self.database = subprocess.Popen(
            [sys.executable, "-m", "hub.local_state"],
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        url = self.database.stdout.readline().strip()
        if not url:
            raise SystemExit("The embedded database did not start (see var/pgdata/log).")
        self.env["DATABASE_URL"] = url

    def release_database(self) -> None:
        if self.database is None:
            return
        self.database.stdin.close()  # the holder exits; the last holder stops the server
        try:
            self.database.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.database.terminate()
            self.database.wait(timeout=30)
        self.database = None

    # the children ------------------------------------------------------------------------
    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, check=True)  # noqa: S603

    def spawn(self, name: str, *args: str) -> None:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, start_new_session=True
        )
        self.children.append((name, process))

    def accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def wait_until_serving(self) -> bool:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and not self.stopping:
            if self.accepting():
                return True
            if any(process.poll() is not None for _, process in self.children):
                return False
            time.sleep(0.2)
        return False

    def stop_children(self) -> None:
        for _, process in self.children:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # the worker finishes its jobs; runserver exits
        deadline = time.monotonic() + GRACE_SECONDS
        for _, process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    # the whole -----------------------------------------------------------------------------
    def on_signal(self, signum, frame) -> None:
        self.stopping = True

    def run(self, *, setup: bool) -> int:
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGTERM, self.on_signal)
        try:
            self.start_database()
            if setup:
                self.manage("migrate", "--noinput")
                self.manage("load_demo")
            self.spawn("web server", "runserver", "--noreload", f"127.0.0.1:{self.port}")
            self.spawn("worker", "run_worker")
            if self.wait_until_serving():
                self.announce()
                while not self.stopping and all(process.poll() is None for _, process in self.children):
                    time.sleep(0.2)
            for name, process in self.children:
                if process.poll() is not None and not self.stopping:
                    self.say(f"The {name} stopped (exit code {process.returncode}); stopping the demo.")
            return 0 if self.stopping else 1
        except subprocess.CalledProcessError as error:
            return error.returncode or 1
        finally:
            self.say("Stopping the web server and the worker…")
            self.stop_children()
            self.release_database()
            self.say("Stopped.")

    def announce(self) -> None:
        base = f"http://127.0.0.1:{self.port}"
        mail = Path(self.env.get("EMAIL_FILE_PATH", VAR_DIR / "mail"))
        sms = Path(self.env.get("SMS_FILE_PATH", VAR_DIR / "sms.log"))
        self.say(
            f"\nOpen {base}/console/demo to sign in as one of the demo's people with one click\n"
            f"Serving {base}/console/  {base}/admin/  {base}/api/  {base}/api/docs/  {base}/graphql\n"
            "A worker delivers notifications as they are written. Delivered messages:\n"
            f"  e-mail  {mail}/  (one .log file per batch, plain text)\n"
            f"  SMS     {sms}\n"
            "  in-app  GET /api/v1/notifications, or the notifications query in GraphQL\n"
            "Press Ctrl-C to stop the server, the worker and the database.\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument("--no-setup", action="store_true", help="skip migrate and load_demo")
    options = parser.parse_args(argv)
    return Demo(options.port).run(setup=not options.no_setup)


if __name__ == "__main__":
    sys.exit(main())
