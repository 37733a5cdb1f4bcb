"""Benchmarks: `python -m benchmarks.run` (see `make bench`)."""
