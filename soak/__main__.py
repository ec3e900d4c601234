"""``python -m soak`` (``make soak``): the loopback soak, once per gunicorn worker count.

Settings (environment, or the flags of the same name): ``SOAK_SECONDS`` (60), ``SOAK_PARTNERS``
(50), ``SOAK_OFFICERS`` (10), ``SOAK_WORKERS`` (``"1 2"``: one run per count), ``SOAK_MAX_REQUESTS``
(the bound on requests per run; 200 a second of run time), ``SOAK_THINK`` (a client's pause between
two iterations, ``min,max`` seconds; ``0.5,1.5``), ``SOAK_PERSONS`` (persons per officer; 10),
``SOAK_SEED``, ``SOAK_KEEP_DB=1`` (keep the databases). ``--json PATH`` writes the report as JSON;
``--no-record`` leaves benchmarks/results.json alone.

The soak prepares its operation once in a throw-away database of its own (``soak_…``, on the
server the project uses: ``DATABASE_URL`` or the embedded PostgreSQL) and gives each run a copy of
it, so every worker count starts from the same data. It exits 1 when a run saw a server error, a
refused send or step, or failed the count check (``soak.check``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from soak import check, world
from soak.server import ROOT, Server, end_with_parent, parent_of, tree_cpu_seconds

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_SECONDS = 60  # a client finishes the step it is in when the time is up, for at most this long


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(_env("SOAK_SECONDS", "60")))
    parser.add_argument("--partners", type=int, default=int(_env("SOAK_PARTNERS", "50")))
    parser.add_argument("--officers", type=int, default=int(_env("SOAK_OFFICERS", "10")))
    parser.add_argument(
        "--workers", default=_env("SOAK_WORKERS", "1 2"), help="gunicorn worker counts, one run each"
    )
    parser.add_argument("--max-requests", type=int, default=int(_env("SOAK_MAX_REQUESTS", "0")))
    parser.add_argument("--think", default=_env("SOAK_THINK", "0.5,1.5"))
    parser.add_argument("--persons", type=int, default=int(_env("SOAK_PERSONS", "10")))
    parser.add_argument("--seed", type=int, default=int(_env("SOAK_SEED", "0")))
    parser.add_argument(
        "--keep-db", action="store_true", default=_env("SOAK_KEEP_DB", "") in {"1", "true", "yes"}
    )
    parser.add_argument("--json", type=Path, help="write the report here as JSON")
    parser.add_argument("--no-record", action="store_true", help="do not write benchmarks/results.json")
    parsed = parser.parse_args(argv)
    parsed.workers = [int(count) for count in parsed.workers.replace(",", " ").split()]
    parsed.max_requests = parsed.max_requests or 200 * parsed.seconds
    if parsed.seconds < 1 or parsed.partners < 1 or parsed.officers < 1 or not parsed.workers:
        parser.error("seconds, partners, officers and workers must be at least 1")
    return parsed


@dataclass
class Run:
    workers: int
    figures: check.Figures
    check: check.CountCheck
    load: tuple[float, float]  # the machine's 1-minute load average as the run started and ended
    cpu: dict[str, float | None]  # CPU seconds of the run: gunicorn, postgresql (None: not here), locust

    def cpu_ms_per_request(self, *parts: str) -> float | None:
        values = [self.cpu[part] for part in parts]
        if None in values or not self.figures.requests:
            return None
        return sum(values) * 1000 / self.figures.requests

    @property
    def passed(self) -> bool:
        return (
            self.figures.server_errors == 0
            and self.check.ok
            and not self.check.sends_refused
            and not self.check.steps_refused
            and self.check.sends_answered > 0
        )

    def as_json(self) -> dict:
        figures = asdict(self.figures) | {
            "requests_per_s": self.figures.requests_per_s,
            "sends_per_s": self.figures.sends_per_s,
            "steps_per_s": self.figures.steps_per_s,
        }
        return {
            "workers": self.workers,
            "passed": self.passed,
            "load_average": self.load,
            "cpu_seconds": self.cpu,
            "figures": figures,
            "check": asdict(self.check) | {"ok": self.check.ok},
        }


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.conf import settings

    # the members' activation mails of the prepared world stay in this process
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _database_url(name: str) -> str:
    """The project's database URL (``DATABASE_URL`` or the embedded server's) naming database ``name``."""
    from hub.local_state import embedded_database_url

    url = urlsplit(os.environ.get("DATABASE_URL") or embedded_database_url())
    return urlunsplit(url._replace(path=f"/{name}"))


def _server_sql(statement: str) -> None:
    """A statement run outside any database of the soak (CREATE / DROP DATABASE)."""
    from django.db import connection

    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(statement)


def _use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def _postmaster() -> int | None:
    """The PostgreSQL server's process, when it runs on this machine (the embedded one does)."""
    from django.db import connection

    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:  # a pid from another machine could name any process here
        if Path(f"/proc/{backend}/comm").read_text().strip() != "postgres":
            return None
    except OSError:
        return None
    return parent_of(backend)


def _cpu(server: Server, postmaster: int | None) -> dict[str, float | None]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # locust, once it has been waited for
    return {
        "gunicorn": tree_cpu_seconds(server.process.pid),
        "postgresql": tree_cpu_seconds(postmaster) if postmaster else None,
        "locust": children.ru_utime + children.ru_stime,
    }


def _locust(*, server: Server, run: str, world_file: Path, records: Path, opts) -> None:
    users = opts.partners + opts.officers
    env = {
        **os.environ,
        "SOAK_WORLD": str(world_file),
        "SOAK_RECORDS": str(records),
        "SOAK_RUN": run,
        "SOAK_MAX_REQUESTS": str(opts.max_requests),
        "SOAK_THINK": opts.think,
        "SOAK_SEED": str(opts.seed),
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        f"--locustfile={LOCUSTFILE}",
        "--headless",
        f"--host={server.url}",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={opts.seconds}s",
        f"--stop-timeout={STOP_SECONDS}",
        "--only-summary",
        "--exit-code-on-error=0",  # the soak judges the run itself (soak.check)
        "--loglevel=WARNING",
    ]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, start_new_session=True, preexec_fn=end_with_parent
    )
    try:
        returncode = process.wait(timeout=opts.seconds + STOP_SECONDS + 60)
    except BaseException as exc:  # over time, or the soak itself is being stopped
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise RuntimeError("locust did not stop by itself in time; killed it") from None
        raise
    if returncode != 0:
        raise RuntimeError(f"locust exited with {returncode}")


def run_once(
    *, workers: int, database: str, world_file: Path, folder: Path, opts, postmaster: int | None
) -> Run:
    """One run against a gunicorn of ``workers`` workers on ``database``; then the count check."""
    records = folder / f"records-w{workers}.jsonl"
    records.touch()
    token = world.World.load(world_file).partners[0].token
    print(
        f"\n== {workers} gunicorn worker{'s' if workers > 1 else ''}: {opts.partners} partners, "
        f"{opts.officers} officers, {opts.seconds} s, at most {opts.max_requests:,} requests ==",
        flush=True,
    )
    server = Server(
        database_url=_database_url(database), workers=workers, log=folder / f"gunicorn-w{workers}.log"
    )
    try:
        server.start()
        server.wait_ready(token)
        load_at_start, cpu_at_start = os.getloadavg()[0], _cpu(server, postmaster)
        _locust(server=server, run=f"w{workers}", world_file=world_file, records=records, opts=opts)
        cpu_at_end = _cpu(server, postmaster)
    finally:
        server.stop()
        log = server.log.read_text(encoding="utf-8", errors="replace").strip()
        if log:
            print(f"-- gunicorn said --\n{log[-4000:]}", flush=True)
    load = (load_at_start, os.getloadavg()[0])
    facts = check.read_records(records)
    _use_database(database)
    try:
        return Run(
            workers=workers,
            figures=check.figures(facts, window_seconds=opts.seconds),
            check=check.count_check(facts),
            load=load,
            cpu={
                part: None if seconds is None else seconds - cpu_at_start[part]
                for part, seconds in cpu_at_end.items()
            },
        )
    finally:
        _use_database(database)  # closes the connection: the database can be dropped


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _print(run: Run) -> None:
    f, c = run.figures, run.check
    print(
        f"requests {f.requests:,} ({f.requests_per_s:.1f}/s over the first {f.window_seconds:.0f} s; "
        f"the last answer at {f.seconds:.1f} s): p50 {f.p50_ms:.0f} ms, "
        f"p95 {f.p95_ms:.0f} ms, p99 {f.p99_ms:.0f} ms; server errors {f.server_errors}"
    )
    for name, row in f.by_name.items():
        print(f"  {name:<12} {row['count']:>7,}  p50 {row['p50_ms']:>6.0f} ms  p95 {row['p95_ms']:>6.0f} ms")
    for sample in f.server_error_samples:
        print(f"  server error: {sample}")
    print(
        f"sends answered {c.sends_answered:,} ({f.sends_per_s:.1f}/s created; keys {c.sends_by_attempt}), "
        f"refused {c.sends_refused or 0}; "
        f"referrals in the database {c.referrals_in_database:,}: lost {len(c.lost)}, duplicated "
        f"{len(c.duplicated)}, mismatched {len(c.mismatched)}, unconfirmed {len(c.unconfirmed)}, "
        f"unexpected {len(c.unexpected)}"
    )
    print(
        f"inbox steps {c.steps or {}} ({f.steps_per_s:.1f}/s done), refused {c.steps_refused or 0}: "
        f"lost {len(c.steps_lost)}, duplicated {len(c.steps_duplicated)}, unseen {len(c.steps_unseen)}"
    )
    for name, items in c.problems.items():
        print(f"  {name}: {', '.join(items[:10])}{' …' if len(items) > 10 else ''}")
    server_cpu = run.cpu_ms_per_request("gunicorn", "postgresql")
    if server_cpu is not None:
        python, database = run.cpu_ms_per_request("gunicorn"), run.cpu_ms_per_request("postgresql")
        print(
            f"CPU per request: {server_cpu:.1f} ms in the server (gunicorn {python:.1f} ms, PostgreSQL "
            f"{database:.1f} ms), {run.cpu_ms_per_request('locust'):.1f} ms in locust (its start-up included)"
        )
    print(f"load average {run.load[0]:.1f} → {run.load[1]:.1f}")
    print("PASSED" if run.passed else "FAILED", flush=True)


def _record(run: Run) -> None:
    """The run's metrics for benchmarks/results.json, as it ends (with the load average then).
    ``size``: the referrals in the database after the run."""
    from benchmarks import results

    prefix, size, f = f"soak.w{run.workers}", run.check.referrals_in_database, run.figures
    results.record(f"{prefix}.p95_ms", f.p95_ms, "ms", size=size)
    results.record(
        f"{prefix}.requests_per_s", f.requests_per_s, "requests/s", size=size, better=results.HIGHER
    )
    results.record(f"{prefix}.sends_per_s", f.sends_per_s, "referrals/s", size=size, better=results.HIGHER)
    results.record(f"{prefix}.server_errors", f.server_errors, "requests", size=size, target=0)
    if (server_cpu := run.cpu_ms_per_request("gunicorn", "postgresql")) is not None:
        results.record(f"{prefix}.server_cpu_ms_per_request", server_cpu, "ms", size=size)
    wrong = sum(len(items) for items in run.check.problems.values())
    results.record(f"{prefix}.referrals_lost_or_duplicated", wrong, "referrals", size=size, target=0)


def _save_records() -> None:
    from benchmarks import results

    saved = results.save(results.recorded())
    print(f"\n== saved to {results.RESULTS_FILE} ==")
    print(results.table([metric for metric in saved if metric.name.startswith("soak.")]))


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (finally) on a plain kill too
    _setup_django()
    from django.db import connection

    previous = connection.settings_dict["NAME"]
    template = f"soak_{secrets.token_hex(4)}"
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    created: list[str] = []
    runs: list[Run] = []
    try:
        print(
            f"preparing {template}: {opts.partners} partner caseworkers, {opts.officers} officers with "
            f"{opts.persons} consented persons each …",
            flush=True,
        )
        connection.settings_dict["TEST"]["NAME"] = template
        created.append(template)
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        prepared = world.build(
            partners=opts.partners, officers=opts.officers, persons_per_officer=opts.persons
        )
        world_file = folder / "world.json"
        prepared.save(world_file)
        _use_database(template)  # no session on the template while it is copied
        postmaster = _postmaster()
        for workers in opts.workers:
            database = f"{template}_w{workers}"
            _server_sql(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
            created.append(database)
            run = run_once(
                workers=workers,
                database=database,
                world_file=world_file,
                folder=folder,
                opts=opts,
                postmaster=postmaster,
            )
            runs.append(run)
            _print(run)
            if not opts.no_record:
                _record(run)
    finally:
        _use_database(previous)
        if opts.keep_db:
            print(f"kept the databases {', '.join(created)}")
        else:
            for name in reversed(created):
                _server_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    if len(runs) > 1:
        print(
            "\n| gunicorn workers | requests/s | p50 ms | p95 ms | referrals sent/s | inbox steps/s "
            "| server CPU ms/request | server errors | count check | load average |"
        )
        for run in runs:
            f, server_cpu = run.figures, _number(run.cpu_ms_per_request("gunicorn", "postgresql"))
            print(
                f"| {run.workers} | {f.requests_per_s:.1f} | {f.p50_ms:,.0f} | {f.p95_ms:,.0f} | "
                f"{f.sends_per_s:.1f} | {f.steps_per_s:.1f} | {server_cpu} | {f.server_errors} | "
                f"{'exact' if run.check.ok else 'FAILED'} | {run.load[0]:.1f} to {run.load[1]:.1f} |"
            )
    if opts.json:
        opts.json.write_text(
            json.dumps(
                {"passed": all(run.passed for run in runs), "runs": [run.as_json() for run in runs]}, indent=2
            ),
            encoding="utf-8",
        )
    if not opts.no_record and runs:
        _save_records()
    return 0 if runs and all(run.passed for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
