"""Benchmarks and load runs (information, not tests)."""
