"""How long the `outages` command takes to start: `outages --help` and `outages cuts list`
(on an empty, already migrated SQLite database) beside `python -c pass`, the floor every
command pays. Each is the median of N runs in fresh processes. Target: --help under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 0.3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=15, help="runs per command (median kept)")


def run(args: argparse.Namespace) -> None:
    outages = str(Path(sys.executable).with_name("outages"))
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        env = {**os.environ, "OUTAGES_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}"}
        # Migrated beforehand: the first use of an empty database would time the migration.
        subprocess.run([outages, "db", "upgrade"], env=env, check=True, capture_output=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "outages --help": [outages, "--help"],
            "outages cuts list": [outages, "cuts", "list"],
        }
        medians = {label: _median(argv, env, args.runs) for label, argv in commands.items()}
    floor = medians["python -c pass"]
    print(f"{'command':<20} {'median':>8} {'over floor':>11}   ({args.runs} runs each)")
    for label, seconds in medians.items():
        print(f"{label:<20} {seconds:>7.3f}s {seconds - floor:>10.3f}s")
    help_time = medians["outages --help"]
    verdict = "within" if help_time < TARGET_SECONDS else "OVER"
    print(f"outages --help: {help_time:.3f} s, {verdict} the {TARGET_SECONDS} s target")


def _median(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
