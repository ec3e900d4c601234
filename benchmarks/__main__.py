"""Run every benchmark module of this package (or only those named on the command line), then save
the metrics to benchmarks/results.json and print them beside their targets.

``BENCH_REFERRALS`` sets the number of generated referrals the referral benchmarks run on
(``make bench BENCH_REFERRALS=1000000``); see docs/performance.md.
"""

import importlib
import pkgutil
import sys

import benchmarks
from benchmarks import _data, results


def main(names: list[str]) -> None:
    modules = sorted(
        info.name for info in pkgutil.iter_modules(benchmarks.__path__) if not info.name.startswith("_")
    )
    modules.remove("results")
    unknown = [name for name in names if name not in modules]
    if unknown:
        raise SystemExit(f"No benchmark named {', '.join(unknown)}; there are: {', '.join(modules)}.")
    try:
        for name in names or modules:
            module = importlib.import_module(f"benchmarks.{name}")
            print(f"== {name} ==")
            module.run()
            print()
    finally:
        _data.close()
        measured = results.recorded()
        if measured:
            results.save(measured)
            print(f"== {len(measured)} metrics (saved to {results.RESULTS_FILE}) ==")
            print(results.table(measured))
            print()
            print("== operation scale (every headline metric in benchmarks/results.json) ==")
            print(results.headline(results.load()))


if __name__ == "__main__":
    main(sys.argv[1:])
