"""Reproducible performance comparisons; results are recorded in benchmarks/RESULTS.md."""
