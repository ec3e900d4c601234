"""Pathway graph questions on a large pathway: 2,000 steps and 10,000 links.

The graph is built once, as the per-process cache does for a published version; each question
then runs on the cached graph with the services' current state passed in, as
``pathways.selectors`` does after its one database query. Pure Python, no database.
``size``: links in the pathway.
"""

import random
import statistics
import time

from benchmarks.results import record
from pathways import drawing, graph
from pathways.graph import Link, PathwayData, PathwayGraph, ServiceState, Step

STEPS = 2_000
LINKS = 10_000
CATEGORIES = 40
ENTRIES = 20
SEED = 20_26
# milliseconds: a question is asked per page shown; validation and exports run on demand
# ("half a second to a second for a pathway this size is acceptable", docs/performance.md)
TARGET_MS = {
    "build": 500,
    "next_steps": 1,
    "alternatives": 20,
    "route": 5,
    "validate": 1000,
    "export_svg": 1000,
    "export_graphml": 2000,
}

CONDITIONS = [
    {},
    {},
    {"age": {"max": 17}},
    {"age": {"min": 18}},
    {"sex": {"in": ["female"]}},
    {"urgency": {"in": ["emergency", "urgent"]}},
    {"any": [{"specific_needs": {"any_of": ["disability"]}}, {"is_minor": {"equals": True}}]},
]
PROFILES = [
    {"age": 24, "sex": "female", "urgency": "urgent", "is_minor": False},
    {"age": 12, "sex": "male", "urgency": "normal", "is_minor": True, "specific_needs": ["separated_child"]},
    {"age": 67, "sex": "male", "urgency": "emergency", "specific_needs": ["disability"]},
]


def large_pathway(seed: int = SEED) -> tuple[PathwayData, dict[str, ServiceState]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    steps = [
        Step(
            id=f"step-{n}",
            key=f"s{n}",
            service_id=f"service-{n}",
            service_name=f"Service {n}",
            organisation=f"ORG{n % 150}",
            category=f"category_{n % CATEGORIES}",
            is_entry=n < ENTRIES,
        )
        for n in range(STEPS)
    ]
    pairs: set[tuple[int, int]] = set()
    # a spanning chain first so that every step is reachable, then random links
    for n in range(ENTRIES, STEPS):
        pairs.add((rng.randrange(0, n), n))
    while len(pairs) < LINKS:
        source, target = rng.randrange(STEPS), rng.randrange(STEPS)
        if source != target:
            pairs.add((source, target))
    links = [
        Link(
            id=f"link-{n}",
            key=f"l{n}",
            source=f"step-{source}",
            target=f"step-{target}",
            condition=rng.choice(CONDITIONS),
            preference=rng.randint(1, 5),
        )
        for n, (source, target) in enumerate(sorted(pairs))
    ]
    states = {
        step.service_id: ServiceState(
            is_accepting=rng.random() > 0.1, max_age=17 if rng.random() < 0.05 else None
        )
        for step in steps
    }
    data = PathwayData(
        id="bench",
        name="Benchmark",
        theme="general",
        status="published",
        version=1,
        steps=tuple(steps),
        links=tuple(links),
    )
    return data, states


def _timed(function, arguments) -> list[float]:
    timings = []
    for args in arguments:
        start = time.perf_counter()
        function(*args)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _line(name: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    median = statistics.median(timings)
    record(f"pathways.{name}.median", median, "ms", size=LINKS, target=TARGET_MS[name])
    if len(timings) >= 20:
        record(f"pathways.{name}.p95", ordered[int(len(ordered) * 0.95) - 1], "ms", size=LINKS)


def run() -> dict:
    data, states = large_pathway()
    print(f"  pathway: {len(data.steps)} steps, {len(data.links)} links, {CATEGORIES} categories")
    start = time.perf_counter()
    pg = PathwayGraph(data)
    build = (time.perf_counter() - start) * 1000
    record("pathways.build.once", build, "ms", size=LINKS, target=TARGET_MS["build"])

    rng = random.Random(1)  # noqa: S311 - reproducible test data, not secrets
    services = [step.service_id for step in data.steps]
    results = {"build_ms": build}

    questions = [
        (
            "next_steps",
            graph.next_steps,
            [(pg, rng.choice(services), rng.choice(PROFILES), states) for _ in range(2000)],
        ),
        (
            "alternatives",
            graph.alternatives,
            [(pg, rng.choice(services), rng.choice(PROFILES), states) for _ in range(1000)],
        ),
        (
            "route",
            graph.route,
            [
                (
                    pg,
                    rng.choice(services),
                    f"category_{rng.randrange(CATEGORIES)}",
                    rng.choice(PROFILES),
                    states,
                )
                for _ in range(300)
            ],
        ),
    ]
    for label, function, arguments in questions:
        timings = _timed(function, arguments)
        _line(label, timings)
        results[label] = statistics.median(timings)

    for label, function in [
        ("validate", lambda: graph.validate(data, states)),
        ("export_svg", lambda: drawing.export_svg(data, states)),
        ("export_graphml", lambda: drawing.export_graphml(data, states)),
    ]:
        _line(label, _timed(function, [()] * 3))
    return results
