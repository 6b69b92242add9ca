"""Benchmarks of the live-state layer: scripts that print tables, not tests."""
