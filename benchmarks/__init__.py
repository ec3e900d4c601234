"""Timings, run by ``make bench`` (``python -m benchmarks``). Each module exposes ``run()``."""
