"""Benchmarks, run by ``make bench`` (``python -m benchmarks``): every module's ``run()``."""
