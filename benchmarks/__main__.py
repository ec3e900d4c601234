"""Run every benchmark module of this package (or only those named on the command line)."""

import importlib
import pkgutil
import sys

import benchmarks


def main(names: list[str]) -> None:
    modules = sorted(
        info.name for info in pkgutil.iter_modules(benchmarks.__path__) if not info.name.startswith("_")
    )
    for name in names or modules:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name} ==")
        module.run()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
