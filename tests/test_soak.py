"""The loopback soak (``soak/``, ``make soak``): a 10-second run inside the suite, and the count
check proved to catch what it is there to catch.

The run is the real thing, shortened: ``python -m soak`` as a subprocess, gunicorn with one worker
on a free port of 127.0.0.1, locust clients, a throw-away database of its own. It asserts no 5xx
and the exact count; never a time.
"""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from referrals import services
from soak.check import count_check, figures, percentile
from soak.server import parent_of, tree_cpu_seconds
from tests.referrals.referral_setup import build_world

ROOT = Path(__file__).resolve().parent.parent


def test_ten_seconds_on_one_worker_answer_no_5xx_and_every_referral_exactly_once(tmp_path):
    report = tmp_path / "soak.json"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SOAK_")}
    soak = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "soak",
            "--seconds=10",
            "--partners=6",
            "--officers=3",
            "--persons=4",
            "--workers=1",
            "--think=0.1,0.4",
            "--seed=12",
            "--no-record",
            f"--json={report}",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = soak.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        soak.terminate()  # the soak stops its server and drops its databases on SIGTERM
        stdout, stderr = soak.communicate(timeout=120)
        pytest.fail(f"the soak did not finish within 5 minutes:\n{stdout[-3000:]}{stderr[-3000:]}")
    output = stdout[-6000:] + stderr[-6000:]
    assert report.exists(), output
    (run,) = json.loads(report.read_text())["runs"]
    assert run["workers"] == 1
    assert run["figures"]["server_errors"] == 0, run["figures"]["server_error_samples"]
    check = run["check"]
    assert check["ok"], output
    assert (check["lost"], check["duplicated"], check["mismatched"]) == ([], [], [])
    assert (check["unconfirmed"], check["unexpected"]) == ([], [])
    assert (check["steps_lost"], check["steps_duplicated"], check["steps_unseen"]) == ([], [], [])
    assert check["sends_refused"] == {} and check["steps_refused"] == {}, output
    # the clients did the work the soak is about: sends, and steps through the inbox
    assert check["sends_answered"] == check["referrals_in_database"] > 0
    assert check["steps"].get("done", 0) > 0
    assert {"inbox", "referral", "send"} <= set(run["figures"]["by_name"])
    assert soak.returncode == 0, output


def _global_id(referral) -> str:
    return base64.b64encode(f"Referral:{referral.id}".encode()).decode()


def _send_fact(world, key, referral=None, *, outcome="created", status=201, person=None):
    return {
        "kind": "send",
        "key": key,
        "organisation": world.a.acronym,
        "person": str(person or world.person.id),
        "service": str(world.service_b.id),
        "attempt": "first",
        "outcome": outcome,
        "status": status,
        "id": str(referral.id) if referral is not None else None,
        "code": None,
    }


def _step_fact(referral, action, outcome="done"):
    return {
        "kind": "step",
        "action": action,
        "referral": _global_id(referral),
        "outcome": outcome,
        "code": None,
    }


@pytest.mark.django_db
def test_the_count_check_passes_when_every_send_and_step_the_clients_saw_is_stored_once():
    world = build_world()
    first = world.send(idempotency_key="w1-a-1")
    second = world.send(idempotency_key="w1-a-2")
    services.referral_transition(actor=world.b.caseworker, referral=first, action="accept")
    records = [
        _send_fact(world, "w1-a-1", first),
        _send_fact(world, "w1-a-2", second),
        _send_fact(world, "w1-a-2", second, outcome="replayed", status=200),  # a resubmitted form
        _step_fact(first, "accept"),
        _step_fact(first, "accept", outcome="conflict"),  # a colleague lost the race
    ]
    check = count_check(records)
    assert check.ok, check.problems
    assert (check.sends_answered, check.referrals_in_database) == (2, 2)
    assert check.steps == {"done": 1, "conflict": 1}
    assert check.sends_by_attempt == {"first": 2}


@pytest.mark.django_db
def test_the_count_check_finds_lost_duplicated_mismatched_and_unexpected_referrals():
    world = build_world()
    stored = world.send(idempotency_key="w1-a-1")
    nobody_sent = world.send(idempotency_key="w1-a-2")
    unanswered = world.send(idempotency_key="w1-a-3")
    other = world.send(idempotency_key="w1-a-4")
    records = [
        _send_fact(world, "w1-a-1", stored),
        _send_fact(world, "w1-a-1", stored),  # created twice, says the API
        _send_fact(world, "w1-a-9", stored),  # answered, never stored
        _send_fact(world, "w1-a-3", outcome="unknown", status=0),
        _send_fact(world, "w1-a-4", other, person=world.b.id),  # stored for someone else
    ]
    check = count_check(records)
    assert not check.ok
    assert check.lost == ["w1-a-9"]
    assert check.duplicated == ["w1-a-1"]
    assert check.mismatched == ["w1-a-4"]
    assert check.unconfirmed == ["w1-a-3"]
    assert check.unexpected == ["w1-a-2"]
    assert nobody_sent.idempotency_key == "w1-a-2" and unanswered.status == "sent"


@pytest.mark.django_db
def test_the_count_check_finds_steps_lost_done_twice_or_unseen():
    world = build_world()
    accepted = world.send(idempotency_key="w1-a-1")
    services.referral_transition(actor=world.b.caseworker, referral=accepted, action="accept")
    acknowledged = world.send(idempotency_key="w1-a-2")
    services.referral_transition(actor=world.b.caseworker, referral=acknowledged, action="acknowledge")
    untouched = world.send(idempotency_key="w1-a-3")
    records = [
        _send_fact(world, "w1-a-1", accepted),
        _send_fact(world, "w1-a-2", acknowledged),
        _send_fact(world, "w1-a-3", untouched),
        _step_fact(accepted, "accept"),
        _step_fact(accepted, "accept"),  # two caseworkers both told they accepted it
        _step_fact(untouched, "decline"),  # told it was declined: no event says so
        # nobody was told `acknowledged` was acknowledged, yet its event exists
    ]
    check = count_check(records)
    assert check.steps_duplicated == [f"accept {accepted.id}"]
    assert check.steps_lost == [f"decline {untouched.id}"]
    assert check.steps_unseen == [f"acknowledge {acknowledged.id}"]
    assert check.lost == check.duplicated == check.unexpected == []


def _request(name: str, ms: float, at: float, status: int = 200) -> dict:
    return {
        "kind": "request",
        "name": name,
        "status": status,
        "ms": ms,
        "at": at,
        "done_at": at + ms / 1000,
        "server_error": status >= 500,
        "error": "bad gateway" if status >= 500 else None,
    }


def test_figures_count_server_errors_and_take_nearest_rank_percentiles():
    records = [_request("inbox", float(ms), 1000.0 + ms / 100) for ms in range(1, 101)]
    records.append(_request("send", 5.0, 1000.5, status=502))
    result = figures(records)
    assert result.requests == 101
    assert result.server_errors == 1
    assert result.server_error_samples == ["send 502: bad gateway"]
    assert result.by_name["inbox"] == {"count": 100, "p50_ms": 50.0, "p95_ms": 95.0}
    assert percentile([3.0, 1.0, 2.0], 0.95) == 3.0
    assert percentile([], 0.95) == 0.0


def test_rates_are_taken_over_the_run_time_not_the_clients_finishing_their_step():
    # one request a second for ten seconds, then the last steps drain for another ten
    records = [_request("inbox", 100.0, 1000.0 + second) for second in range(10)]
    records += [_request("inbox", 900.0, 1010.0 + second) for second in range(10)]
    records += [
        {"kind": "send", "outcome": "created", "done_at": 1000.2},
        {"kind": "send", "outcome": "created", "done_at": 1012.0},
        {"kind": "step", "outcome": "done", "done_at": 1009.0},
        {"kind": "step", "outcome": "conflict", "done_at": 1009.5},
    ]
    result = figures(records, window_seconds=10)
    assert (result.window_seconds, result.seconds) == (10, pytest.approx(19.9))
    assert (result.requests_in_window, result.requests_per_s) == (10, 1.0)
    assert (result.sends_in_window, result.steps_in_window) == (1, 1)
    assert result.requests == 20


def test_cpu_time_is_read_for_a_process_and_its_children_and_unknown_for_no_process():
    busy = subprocess.run(
        [sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True, timeout=60
    )
    assert busy.returncode == 0
    own = tree_cpu_seconds(os.getpid())
    assert own is not None and own > 0  # this process, and the child it waited for
    assert parent_of(os.getpid()) == os.getppid()
    assert tree_cpu_seconds(2**22 + 1) is None  # above the largest pid Linux hands out
