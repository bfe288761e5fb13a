"""`make bench`: run every benchmark (but `scale`, run only when named), or those named:
python -m bench customers cuts ...

Each benchmark module exposes add_arguments(parser) and run(args) -> None and prints its own
figures with the floor beside them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench.machine import CpuTimes, describe

BENCHMARKS = (
    "cli",
    "customers",
    "cuts",
    "notices",
    "sms",
    "reliability",
    "http",
    "console",
    "public",
    "scale",
)
# Run only when named: the 9-million-customer run takes the best part of an hour.
ON_REQUEST = ("scale",)


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-") and a in BENCHMARKS] or [
        name for name in BENCHMARKS if name not in ON_REQUEST]
    options = [a for a in argv if a not in names]
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"[{name}] not built yet")
            continue
        parser = argparse.ArgumentParser(prog=f"bench {name}")
        module.add_arguments(parser)
        args, _unknown = parser.parse_known_args(options)
        print(f"\n=== {name} ===", flush=True)
        started, cpu = time.perf_counter(), CpuTimes.now()
        module.run(args)
        print(describe(cpu, CpuTimes.now()))
        print(f"[{name}] finished in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
