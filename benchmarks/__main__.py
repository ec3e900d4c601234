"""Run every benchmark module in this package (each exposes ``run()``)."""

import importlib
import pkgutil

import benchmarks


def main() -> None:
    for module in sorted(info.name for info in pkgutil.iter_modules(benchmarks.__path__)):
        if not module.startswith("_"):
            importlib.import_module(f"benchmarks.{module}").run()


if __name__ == "__main__":
    main()
