"""Benchmarks: each module measures one path next to its raw floor and prints the figures."""
