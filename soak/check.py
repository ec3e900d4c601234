"""After a run: the count check (the database against what the clients saw) and the figures.

The count check, over every referral in the database (the soak's database holds nothing else):

- **lost**: a send the clients saw succeed (``201``, or ``200`` for a repeated key) whose key has
  no referral;
- **duplicated**: a key with more than one referral, a key answered ``201`` more than once, or
  answered with different referrals, or with another referral than the one stored;
- **mismatched**: the stored referral is not for the person or service the client sent;
- **unconfirmed**: a referral whose send had no answer (the client was stopped mid-send);
- **unexpected**: a referral whose key no client sent — something else was created.

and the same for the inbox steps: each acknowledge, accept, decline or complete a client saw
succeed has exactly one event of its kind, no step succeeded twice on one referral (a race the row
lock lost), and no such event exists that no client saw succeed.
"""

from __future__ import annotations

import base64
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ANSWERED = {"created", "replayed"}
STEPS = ("acknowledge", "accept", "decline", "complete")  # what the partner clients do


def read_records(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def referral_uuid(global_id: str) -> str:
    """The referral's id inside a GraphQL global id (``Referral:<uuid>``, base64)."""
    return base64.b64decode(global_id).decode().split(":", 1)[1]


@dataclass
class CountCheck:
    sends_answered: int = 0  # distinct keys the clients saw succeed
    referrals_in_database: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    sends_refused: dict[str, int] = field(default_factory=dict)  # error code → count
    # keys by how they were sent: first (once), resubmit (again after the answer), double_click
    # (twice at once), interrupted (the run stopped mid-send)
    sends_by_attempt: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)  # outcome → count
    steps_refused: dict[str, int] = field(default_factory=dict)
    steps_lost: list[str] = field(default_factory=list)
    steps_duplicated: list[str] = field(default_factory=list)
    steps_unseen: list[str] = field(default_factory=list)

    @property
    def problems(self) -> dict[str, list[str]]:
        found = {
            "lost": self.lost,
            "duplicated": self.duplicated,
            "mismatched": self.mismatched,
            "unconfirmed": self.unconfirmed,
            "unexpected": self.unexpected,
            "steps_lost": self.steps_lost,
            "steps_duplicated": self.steps_duplicated,
            "steps_unseen": self.steps_unseen,
        }
        return {name: items for name, items in found.items() if items}

    @property
    def ok(self) -> bool:
        return not self.problems


def count_check(records: list[dict]) -> CountCheck:
    """Compare the records with the referrals and events in the current database."""
    from referrals import transitions
    from referrals.models import Referral, ReferralEvent

    check = CountCheck()
    sends = defaultdict(list)
    for fact in records:
        if fact["kind"] == "send":
            sends[fact["key"]].append(fact)
    answered = {key: facts for key, facts in sends.items() if any(f["outcome"] in ANSWERED for f in facts)}
    check.sends_answered = len(answered)
    check.sends_by_attempt = dict(
        Counter(
            attempt for attempt, _key in {(f["attempt"], f["key"]) for facts in sends.values() for f in facts}
        )
    )
    check.sends_refused = dict(
        Counter(
            f["code"] or str(f["status"])
            for facts in sends.values()
            for f in facts
            if f["outcome"] == "refused"
        )
    )

    stored = defaultdict(list)
    for row in Referral.objects.values(
        "id", "idempotency_key", "from_organisation__acronym", "person_id", "to_service_id"
    ):
        stored[row["idempotency_key"]].append(row)
    check.referrals_in_database = sum(len(rows) for rows in stored.values())

    for key, facts in sorted(answered.items()):
        rows = stored.get(key, [])
        ids = {f["id"] for f in facts if f["outcome"] in ANSWERED}
        created = sum(f["outcome"] == "created" for f in facts)
        if not rows:
            check.lost.append(key)
            continue
        if len(rows) > 1 or created > 1 or ids != {str(rows[0]["id"])}:
            check.duplicated.append(key)
        sent = facts[0]
        row = rows[0]
        if (str(row["person_id"]), str(row["to_service_id"]), row["from_organisation__acronym"]) != (
            sent["person"],
            sent["service"],
            sent["organisation"],
        ):
            check.mismatched.append(key)
    for key in sorted(set(stored) - set(answered)):
        (check.unconfirmed if key in sends else check.unexpected).append(key)

    # the inbox steps
    steps = [fact for fact in records if fact["kind"] == "step"]
    check.steps = dict(Counter(fact["outcome"] for fact in steps))
    check.steps_refused = dict(Counter(fact["code"] for fact in steps if fact["outcome"] == "refused"))
    action_of = {transitions.STATE_CHANGES[action].event: action for action in STEPS}
    done = Counter((referral_uuid(f["referral"]), f["action"]) for f in steps if f["outcome"] == "done")
    unknown = {(referral_uuid(f["referral"]), f["action"]) for f in steps if f["outcome"] == "unknown"}
    events = Counter(
        (str(referral_id), action_of[kind])
        for referral_id, kind in ReferralEvent.objects.filter(kind__in=list(action_of)).values_list(
            "referral_id", "kind"
        )
    )
    for step, times in sorted(done.items()):
        label = f"{step[1]} {step[0]}"
        if times > 1 or events[step] > 1:
            check.steps_duplicated.append(label)
        elif events[step] == 0:
            check.steps_lost.append(label)
    for step, times in sorted(events.items()):
        if step not in done and step not in unknown:
            check.steps_unseen.append(f"{step[1]} {step[0]}")
        elif step not in done and times > 1:
            check.steps_duplicated.append(f"{step[1]} {step[0]}")
    return check


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


@dataclass
class Figures:
    """The run's figures. Rates are taken over the run's time (``window_seconds``, from the first
    request on): after it the clients only finish the step they are in, at a lower concurrency."""

    requests: int
    seconds: float  # from the first request sent to the last answer
    window_seconds: float
    requests_in_window: int
    sends_in_window: int  # referrals created (201) within the window
    steps_in_window: int  # inbox steps done within the window
    server_errors: int  # 5xx, GraphQL internal errors, requests without an answer
    server_error_samples: list[str]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    by_name: dict[str, dict]  # request name → count, p50_ms, p95_ms

    @property
    def requests_per_s(self) -> float:
        return self.requests_in_window / self.window_seconds if self.window_seconds else 0.0

    @property
    def sends_per_s(self) -> float:
        return self.sends_in_window / self.window_seconds if self.window_seconds else 0.0

    @property
    def steps_per_s(self) -> float:
        return self.steps_in_window / self.window_seconds if self.window_seconds else 0.0


def figures(records: list[dict], *, window_seconds: float | None = None) -> Figures:
    """The figures of a run of ``window_seconds`` (None: until the last answer)."""
    requests = [fact for fact in records if fact["kind"] == "request"]
    times = [fact["ms"] for fact in requests]
    names = defaultdict(list)
    for fact in requests:
        names[fact["name"]].append(fact["ms"])
    errors = [fact for fact in requests if fact["server_error"]]
    first = min((fact["at"] for fact in requests), default=0.0)
    last = max((fact["done_at"] for fact in requests), default=0.0)
    window = min(window_seconds, last - first) if window_seconds else last - first
    in_window = [fact for fact in records if fact["done_at"] <= first + window]
    return Figures(
        requests=len(requests),
        seconds=last - first,
        window_seconds=window,
        requests_in_window=sum(fact["kind"] == "request" for fact in in_window),
        sends_in_window=sum(fact["kind"] == "send" and fact["outcome"] == "created" for fact in in_window),
        steps_in_window=sum(fact["kind"] == "step" and fact["outcome"] == "done" for fact in in_window),
        server_errors=len(errors),
        server_error_samples=[f"{fact['name']} {fact['status']}: {fact['error']}" for fact in errors[:5]],
        p50_ms=percentile(times, 0.50),
        p95_ms=percentile(times, 0.95),
        p99_ms=percentile(times, 0.99),
        by_name={
            name: {
                "count": len(values),
                "p50_ms": percentile(values, 0.5),
                "p95_ms": percentile(values, 0.95),
            }
            for name, values in sorted(names.items())
        },
    )
