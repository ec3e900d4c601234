"""make bench, short: the operation-scale benchmark runs end to end on a tiny generated operation
and writes every one of its headline metrics, each with its floor from the same run. Timings are
not judged here (they belong to `make bench`); that the harness works on a fresh clone is."""

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.results import HEADLINE

ROOT = Path(__file__).resolve().parent.parent
MEASURED_HERE = [name for name, _what in HEADLINE if not name.startswith(("alternatives", "hsds"))]
WITH_FLOOR = set(MEASURED_HERE) - {"inbox_growth_ratio", "inbox_floor_ratio"}


def test_the_scale_benchmark_writes_every_headline_metric_beside_its_floor(tmp_path):
    results = tmp_path / "results.json"
    env = {
        **os.environ,
        "BENCH_REFERRALS": "401",  # sizes no developer keeps: the databases are dropped after
        "BENCH_GROWTH_REFERRALS": "201",
        "BENCH_ROUNDS": "2",
        "BENCH_RESULTS_FILE": str(results),
        "BENCH_KEEP_DB": "",
    }
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "scale"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    metrics = {metric["name"]: metric for metric in json.loads(results.read_text())}
    assert set(MEASURED_HERE) <= set(metrics)
    for name in MEASURED_HERE:
        metric = metrics[name]
        assert metric["value"] > 0 and metric["size"] == 401 and metric["target"] is not None
        assert (metric["floor"] is not None and metric["floor"] > 0) == (name in WITH_FLOOR), name
    assert "operation scale" in run.stdout and "not measured" in run.stdout  # the table, printed
