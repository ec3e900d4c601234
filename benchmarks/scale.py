"""The operation-scale table (docs/performance.md): the partner inbox, the REST list of both sides,
sending, and the consent cascades, each beside its floor measured in the same run.

Runs on the generated benchmark database (``benchmarks._data``: ``BENCH_REFERRALS`` referrals) and,
for the growth ratio, on a second one of 10,000 referrals. ``size``: referrals in the database.

Floors — the same work done the cheapest way known:
- inbox: hand-written SQL for the same page (same rows, the same columns joined) and an index-only
  COUNT of the organisation's received referrals;
- REST list of both sides: hand-written SQL merging the two sides' newest rows, and their count;
- send: an authenticated REST request that does nothing (``GET /api/v1/me``) through the same stack;
- withdrawal and erasure of 20 referrals: the same cascade for one referral (the fixed part).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from benchmarks import _data
from benchmarks.results import HIGHER, record

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
GROWTH_SIZE = int(os.environ.get("BENCH_GROWTH_REFERRALS", "10000"))
INBOX = (Path(__file__).resolve().parent.parent / "graphql" / "operations" / "inbox.graphql").read_text()

FLOOR_PAGE = """
SELECT r.id, r.reference, r.status, r.urgency, r.due_by, r.created_at, o.name, o.acronym, s.name, c.code,
       u.username, u.first_name, u.last_name, e.kind, e.at, eo.acronym
FROM referrals_referral r
JOIN partners_organisation o ON o.id = r.from_organisation_id
JOIN partners_service s ON s.id = r.to_service_id
JOIN partners_servicecategory c ON c.id = s.category_id
LEFT JOIN auth_user u ON u.id = r.assigned_to_id
LEFT JOIN LATERAL (
    SELECT kind, at, organisation_id FROM referrals_referralevent
    WHERE referral_id = r.id ORDER BY at DESC, id DESC LIMIT 1
) e ON true
LEFT JOIN partners_organisation eo ON eo.id = e.organisation_id
WHERE r.to_organisation_id = %s
ORDER BY r.created_at DESC, r.id DESC LIMIT 51
"""
FLOOR_COUNT = "SELECT count(*) FROM referrals_referral WHERE to_organisation_id = %s"
FLOOR_MIXED = """
SELECT * FROM (
    (SELECT id, created_at FROM referrals_referral WHERE to_organisation_id = %(o)s
     ORDER BY created_at DESC, id DESC LIMIT 51)
    UNION ALL
    (SELECT id, created_at FROM referrals_referral WHERE from_organisation_id = %(o)s
     AND to_organisation_id <> %(o)s ORDER BY created_at DESC, id DESC LIMIT 51)
) page ORDER BY created_at DESC, id DESC LIMIT 51
"""
FLOOR_MIXED_COUNT = """
SELECT (SELECT count(*) FROM referrals_referral WHERE to_organisation_id = %(o)s)
     + (SELECT count(*) FROM referrals_referral
        WHERE from_organisation_id = %(o)s AND to_organisation_id <> %(o)s)
"""


def _percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _timed(function, rounds: int = ROUNDS) -> list[float]:
    function()  # warm
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _sql(statement: str, params) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        cursor.fetchall()


class _Api:
    """Real requests through the whole stack (middleware, token authentication), one process."""

    def __init__(self, user):
        from django.test import Client
        from knox.models import AuthToken

        self.token, key = AuthToken.objects.create(user=user)
        self.auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
        self.client = Client()

    def graphql(self, query: str, variables: dict) -> dict:
        response = self.client.post(
            "/graphql",
            data=json.dumps({"query": query, "variables": variables}),
            content_type="application/json",
            **self.auth,
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    def get(self, path: str, params: dict | None = None) -> dict:
        response = self.client.get(path, params or {}, **self.auth)
        assert response.status_code == 200, response.content[:500]
        return response.json()

    def post(self, path: str, body: dict, expect: int = 201) -> dict:
        response = self.client.post(path, data=json.dumps(body), content_type="application/json", **self.auth)
        assert response.status_code == expect, response.content[:500]
        return response.json()

    def close(self) -> None:
        self.token.delete()


def _inbox(organisation, data) -> tuple[list[float], list[float]]:
    """GraphQL inbox timings and the SQL floor's, interleaved so both see the same machine."""
    api = _Api(data.member(organisation))
    try:
        variables = {"first": 50}
        page = api.graphql(INBOX, variables)["referralInbox"]
        assert page["totalCount"] == organisation.referrals_received.count() or page["totalCount"] >= 0
        inbox = _timed(lambda: api.graphql(INBOX, variables))
        floor = _timed(lambda: (_sql(FLOOR_PAGE, [organisation.pk]), _sql(FLOOR_COUNT, [organisation.pk])))
        return inbox, floor
    finally:
        api.close()


def _inboxes(data, size: int) -> dict:
    big_inbox, big_floor = _inbox(data.largest, data)
    small_inbox, small_floor = _inbox(data.median, data)
    return {
        "big": (big_inbox, big_floor),
        "small": (small_inbox, small_floor),
        "size": size,
    }


def _mixed_list(data) -> tuple[list[float], list[float]]:
    organisation = data.largest
    api = _Api(data.member(organisation))
    service = str(organisation.services.order_by("name").first().pk)
    combinations = [
        {},
        {"status": "sent"},
        {"status": "accepted", "urgency": "emergency"},
        {"overdue": "true"},
        {"overdue": "false"},
        {"service": service},
        {"service": service, "status": "completed"},
        {"assigned_to_me": "true"},
        {"search": "R-7K"},
        {"urgency": "urgent", "overdue": "false"},
    ]
    try:
        timings: list[float] = []
        for params in combinations:
            timings += _timed(
                lambda params=params: api.get("/api/v1/referrals", params), rounds=max(1, ROUNDS // 4)
            )
        # the page after the first, by the cursor of the next link
        after = api.get("/api/v1/referrals")["next"].split("after=")[1]
        timings += _timed(lambda: api.get("/api/v1/referrals", {"after": after}), rounds=max(1, ROUNDS // 4))
        floor = _timed(
            lambda: (
                _sql(FLOOR_MIXED, {"o": organisation.pk}),
                _sql(FLOOR_MIXED_COUNT, {"o": organisation.pk}),
            )
        )
        return timings, floor
    finally:
        api.close()


def _officer_case(officer, services: list, rng: random.Random, number: str):
    """A person registered and a consent recorded by ``officer`` (through the services) that
    covers every service of ``services``."""
    from consent.models import Location
    from consent.services import consent_create, person_create
    from referrals import load_data

    locations = list(Location.objects.order_by("pk")[:5])
    person = person_create(actor=officer, **load_data.person_fields(rng, locations, number, date.today()))
    fields = load_data.consent_fields(
        rng, person, [(service, ()) for service in services], until=date.today()
    )
    fields["obtained_at"] = person.created_at
    fields["expires_on"] = date.today() + timedelta(days=365)
    return person, consent_create(actor=officer, person=person, **fields)


def _send(data, rng: random.Random) -> tuple[list[float], list[float]]:
    sender = data.organisations[1]
    officer = data.member(sender)
    target = data.largest.services.filter(category__code="case_management").first() or (
        data.largest.services.exclude(category__code="psea").first()
    )
    person, consent = _officer_case(officer, [target], rng, f"BENCH-SEND-{uuid.uuid4().hex[:12]}")
    api = _Api(officer)
    counter, run = iter(range(10**9)), uuid.uuid4().hex[:8]
    try:
        body = {"person": str(person.pk), "consent": str(consent.pk), "to_service": str(target.pk)}
        sends = _timed(
            lambda: api.post(
                "/api/v1/referrals",
                {**body, "idempotency_key": f"{_data.BENCH_KEY_PREFIX}send-{run}-{next(counter)}"},
            )
        )
        floor = _timed(lambda: api.get("/api/v1/me"))
        return sends, floor
    finally:
        api.close()


def _cascade(data, rng: random.Random, how: str, referrals: int, rounds: int) -> list[float]:
    """``how`` = withdrawal or erasure of a person with ``referrals`` open referrals, timed in the
    service (its one transaction), ``rounds`` times on fresh people."""
    from consent.services import consent_withdraw, person_erase
    from referrals.services import referral_send

    sender = data.organisations[2]
    officer, focal_point = data.member(sender), data.member(sender, "focal_point")
    targets = list(data.largest.services.exclude(category__code="psea").order_by("name")[:1]) + list(
        data.organisations[3].services.exclude(category__code="psea").order_by("name")[:1]
    )
    timings = []
    for round_ in range(rounds + 1):
        person, consent = _officer_case(officer, targets, rng, f"BENCH-{how}-{uuid.uuid4().hex[:12]}")
        for n in range(referrals):
            referral_send(
                actor=officer,
                person=person,
                consent=consent,
                to_service=targets[n % len(targets)],
                idempotency_key=f"{_data.BENCH_KEY_PREFIX}{how}-{person.pk}-{n}",
            )
        start = time.perf_counter()
        if how == "withdrawal":
            consent_withdraw(actor=officer, record=consent, channel="in_person")
        else:
            person_erase(actor=focal_point, person=person)
        if round_:  # the first warms the caches
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def run() -> None:
    _data.setup_django()
    rng = random.Random(2026)  # noqa: S311 - benchmark inputs, not secrets
    data = _data.referral_data()
    size = data.referrals
    print(f"Operation scale on {size:,} referrals between {len(data.organisations)} organisations")
    main = _inboxes(data, size)
    if size != GROWTH_SIZE:
        with _data.other_referral_data(GROWTH_SIZE) as small_data:
            growth = _inboxes(small_data, GROWTH_SIZE)
    else:
        growth = main
    big_inbox, big_floor = main["big"]
    small_inbox, _small_floor = main["small"]
    record(
        "inbox_big_p95_ms",
        _percentile(big_inbox, 0.95),
        "ms",
        size=size,
        target=50,
        floor=_percentile(big_floor, 0.95),
    )
    record(
        "inbox_small_p95_ms",
        _percentile(small_inbox, 0.95),
        "ms",
        size=size,
        target=25,
        floor=_percentile(main["small"][1], 0.95),
    )
    ratio = max(
        statistics.median(big_inbox) / statistics.median(growth["big"][0]),
        statistics.median(small_inbox) / statistics.median(growth["small"][0]),
    )
    record("inbox_growth_ratio", ratio, "x", size=size, target=1.5)
    record(
        "inbox_floor_ratio",
        _percentile(big_inbox, 0.95) / _percentile(big_floor, 0.95),
        "x",
        size=size,
        target=2.5,
    )
    mixed, mixed_floor = _mixed_list(data)
    record(
        "rest_list_mixed_p95_ms",
        _percentile(mixed, 0.95),
        "ms",
        size=size,
        target=80,
        floor=_percentile(mixed_floor, 0.95),
    )
    sends, send_floor = _send(data, rng)
    record(
        "send_p95_ms",
        _percentile(sends, 0.95),
        "ms",
        size=size,
        target=40,
        floor=_percentile(send_floor, 0.95),
    )
    record(
        "sends_per_s",
        1000 / statistics.mean(sends),
        "sends/s",
        size=size,
        target=40,
        better=HIGHER,
        floor=1000 / statistics.mean(send_floor),
    )
    for how in ("withdrawal", "erasure"):
        twenty = _cascade(data, rng, how, 20, rounds=max(2, ROUNDS // 5))
        one = _cascade(data, rng, how, 1, rounds=max(2, ROUNDS // 5))
        record(
            f"{how}_20_p95_ms",
            _percentile(twenty, 0.95),
            "ms",
            size=size,
            target=80,
            floor=_percentile(one, 0.95),
        )
