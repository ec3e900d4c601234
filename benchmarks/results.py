"""Benchmark results: modules ``record`` metrics; ``python -m benchmarks`` saves them to
``benchmarks/results.json`` and prints each beside its target.

The file holds one object per metric (``name``, ``unit``, ``value``, ``size``, ``date``,
``git_revision``, ``load_average``, and ``target`` / ``better`` when the metric has a target). A run
replaces the metrics it measured and keeps the others, so running one module leaves the rest of
the file as it was. The file is machine-local (git-ignored): the numbers that matter are written
up, with their machine, in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

RESULTS_FILE = Path(os.environ.get("BENCH_RESULTS_FILE") or Path(__file__).with_name("results.json"))
LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    value: float
    size: int | None  # the data set's size: referrals, services, links, … (the module's docstring says which)
    date: str
    git_revision: str
    load_average: float  # 1-minute load average when measured: a busy machine reads slower
    target: float | None = None
    better: str = LOWER  # whether the target is a ceiling ("lower") or a floor ("higher")
    # the same work done the cheapest way known (hand-written SQL, the library call alone, …),
    # measured in the same run and unit: the ratio value/floor holds on a noisy machine
    floor: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if not self.floor else self.value / self.floor

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.better == LOWER else self.value >= self.target


_recorded: list[Metric] = []


@lru_cache(maxsize=1)
def git_revision() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{revision}-dirty" if changed else revision


def record(
    name: str,
    value: float,
    unit: str,
    *,
    size: int | None = None,
    target: float | None = None,
    better: str = LOWER,
    floor: float | None = None,
) -> Metric:
    """Keep one measurement for this run (and print it, so a long run shows progress)."""
    metric = Metric(
        name=name,
        unit=unit,
        value=round(float(value), 3),
        size=size,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        git_revision=git_revision(),
        load_average=round(os.getloadavg()[0], 2),
        target=target,
        better=better,
        floor=None if floor is None else round(float(floor), 3),
    )
    _recorded.append(metric)
    print(f"  {_line(metric)}")
    return metric


def recorded() -> list[Metric]:
    return list(_recorded)


def load(path: Path = RESULTS_FILE) -> list[Metric]:
    if not path.exists():
        return []
    known = set(Metric.__dataclass_fields__)
    return [
        Metric(**{key: value for key, value in item.items() if key in known})
        for item in json.loads(path.read_text(encoding="utf-8"))
    ]


def save(metrics: list[Metric], path: Path = RESULTS_FILE) -> list[Metric]:
    """Merge ``metrics`` into the file (same name: replaced) and return what the file now holds."""
    merged = {metric.name: metric for metric in load(path)}
    merged.update({metric.name: metric for metric in metrics})
    ordered = sorted(merged.values(), key=lambda metric: metric.name)
    path.write_text(json.dumps([asdict(metric) for metric in ordered], indent=2) + "\n", encoding="utf-8")
    return ordered


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _target(metric: Metric) -> str:
    if metric.target is None:
        return ""
    return f"{'≤' if metric.better == LOWER else '≥'} {_number(metric.target)}"


def _line(metric: Metric) -> str:
    floor = f", floor {_number(metric.floor)} {metric.unit}" if metric.floor is not None else ""
    return f"{metric.name}: {_number(metric.value)} {metric.unit}{floor} (target {_target(metric) or 'none'})"


def _aligned(rows: list[tuple], *, right: set[int]) -> str:
    """Rows as columns of equal width, the columns in ``right`` aligned right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def table(metrics: list[Metric]) -> str:
    """The metrics as an aligned table, each value beside its target."""
    rows = [("metric", "value", "unit", "target", "", "size", "load", "revision", "date")]
    for metric in metrics:
        rows.append(
            (
                metric.name,
                _number(metric.value),
                metric.unit,
                _target(metric),
                {True: "ok", False: "MISSED", None: ""}[metric.met],
                f"{metric.size:,}" if metric.size is not None else "",
                f"{metric.load_average:.1f}",
                metric.git_revision,
                metric.date[:16].replace("T", " "),
            )
        )
    return _aligned(rows, right={1, 5, 6})


# The operation-scale table (docs/performance.md): what each headline metric measures and its
# target at a million referrals on 2 cores. Modules record them under these names.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("inbox_big_p95_ms", "inbox, big NGO (first: 50, with totalCount)"),
    ("inbox_small_p95_ms", "inbox, small NGO"),
    ("inbox_growth_ratio", "growth, inbox p50 at this size / at 10 k"),
    ("inbox_floor_ratio", "inbox / hand-written SQL floor, same run"),
    ("rest_list_mixed_p95_ms", "REST GET /referrals without direction, big NGO, any filter"),
    ("send_p95_ms", "REST send (full stack, one process)"),
    ("sends_per_s", "REST sends per second (one process)"),
    ("withdrawal_20_p95_ms", "consent withdrawal, 20 referrals"),
    ("erasure_20_p95_ms", "erasure, 20 referrals"),
    ("alternatives_p95_ms", "pathway alternatives, 2,000 steps (service)"),
    ("alternatives_rest_p95_ms", "pathway alternatives, 2,000 steps (REST)"),
    ("hsds_import_5000_s", "HSDS import, 5,000 services"),
)


def headline(metrics: list[Metric]) -> str:
    """The operation-scale table: each headline metric beside its floor and target, or "not measured"."""
    by_name = {metric.name: metric for metric in metrics}
    rows = [("metric", "what", "value", "floor", "x floor", "target", "", "size", "load")]
    for name, what in HEADLINE:
        metric = by_name.get(name)
        if metric is None:
            rows.append((name, what, "not measured", "", "", "", "", "", ""))
            continue
        rows.append(
            (
                name,
                what,
                f"{_number(metric.value)} {metric.unit}",
                "" if metric.floor is None else f"{_number(metric.floor)} {metric.unit}",
                "" if metric.ratio is None else f"{metric.ratio:.2f}",
                _target(metric),
                {True: "ok", False: "MISSED", None: ""}[metric.met],
                f"{metric.size:,}" if metric.size is not None else "",
                f"{metric.load_average:.1f}",
            )
        )
    return _aligned(rows, right={2, 3, 4, 7, 8})
