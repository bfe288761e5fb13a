"""Synthetic data for demos and benchmarks: a city's registry and its interruption history."""
