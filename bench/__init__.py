"""Benchmarks: each module measures one path next to its raw floor and prints the figures."""

import os

# The local server benchmarks make their scratch databases on (and drop afterwards).
POSTGRES_URL = os.environ.get(
    "OUTAGES_BENCH_POSTGRES_URL",
    os.environ.get("OUTAGES_TEST_POSTGRES_URL",
                   "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)
