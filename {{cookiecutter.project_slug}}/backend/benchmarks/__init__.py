"""Benchmarks of rxdjango through a real daphne: `python -m benchmarks --help`. They print tables and assert nothing."""
