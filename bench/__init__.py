"""Benchmarks: `python bench/run.py` (or `make bench`) measures and writes bench/results.json."""
