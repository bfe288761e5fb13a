"""Public load: the open GeoJSON feed and the public page under 200 concurrent clients,
beside the cut lookup (`/public/cuts/lookup`, as `bench http` measures it), against a real
`outages serve` on a throw-away PostgreSQL database.

Each route is loaded in turn for SECONDS by CLIENTS keep-alive clients (asyncio + httpx, or
wrk when installed) that do not send If-None-Match: every answer is a full body, served
from the in-process cache keyed by the outage revision watermark. Prints requests/s,
p50/p99 and errors per route, and the machine's load average. Target: no errors, p99 under
200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from typing import Any

import httpx

from bench.http import (
    DEFAULT_URL,
    SIZE,
    SOUTH,
    WEST,
    WRK_SCRIPT,
    parse_wrk,
    seed,
)
from bench.scratch import scratch_database
from tests.support.server import running_server

ROUTES = ("/public/feeds/cuts.geojson", "/", "/public/cuts/lookup")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=15.0, help="per route")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--cuts", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--generator", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "OUTAGES_BENCH_POSTGRES_URL", os.environ.get("OUTAGES_TEST_POSTGRES_URL", DEFAULT_URL)))


def run(args: argparse.Namespace) -> None:
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "httpx"
    with scratch_database(args.postgres_url) as url:
        codes = seed(url, args.customers, args.cuts)
        env = {"OUTAGES_DATABASE_URL": url, "OUTAGES_PUBLIC_TILE_URL": "",
               # All the load comes from 127.0.0.1: lift the per-address limit.
               "OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE": "1000000000"}
        with running_server(env, "--workers", str(args.workers), timeout=60) as base:
            _warm(base)
            # Not measured: lets the freshly seeded database settle (autovacuum, analyze)
            # and every worker build its answers, so the first route is not the one
            # that pays for it.
            if generator == "wrk":
                _wrk(base, ROUTES[0], len(codes), args.clients, 3)
            else:
                asyncio.run(_load(base, ROUTES[0], codes, args.clients, 3))
            for route in ROUTES:
                if generator == "wrk":
                    result = _wrk(base, route, len(codes), args.clients, args.seconds)
                else:
                    result = asyncio.run(_load(base, route, codes, args.clients,
                                               args.seconds))
                _report(route, result, args, generator)
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
          flush=True)


def _warm(base: str) -> None:
    for route in ROUTES[:2]:
        assert httpx.get(base + route, timeout=30).status_code == 200, route


def _wrk(base: str, route: str, customers: int, clients: int,
         seconds: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if route == "/public/cuts/lookup":
            script.write(WRK_SCRIPT % {"customers": customers, "west": WEST, "south": SOUTH,
                                       "size": SIZE})
        script.flush()
        completed = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "10s",
             "--latency", *(["-s", script.name] if route == "/public/cuts/lookup" else []),
             base + route], capture_output=True, text=True, check=True)
    return parse_wrk(completed.stdout)


async def _load(base: str, route: str, codes: list[str], clients: int,
                seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(_client(http, route, codes, deadline, latencies, errors, n)
                               for n in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    return {"count": count, "elapsed": elapsed, "errors": errors,
            "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
            "p99": latencies[min(count - 1, int(count * 0.99))] * 1000
            if latencies else float("nan")}


async def _client(http: httpx.AsyncClient, route: str, codes: list[str], deadline: float,
                  latencies: list[float], errors: dict[str, int], n: int) -> None:
    rng = random.Random(n)
    while time.perf_counter() < deadline:
        params: dict[str, str] = {}
        if route == "/public/cuts/lookup":
            params = ({"customer": rng.choice(codes)} if rng.random() < 0.9 else
                      {"lon": str(WEST + rng.random() * SIZE),
                       "lat": str(SOUTH + rng.random() * SIZE)})
        sent = time.perf_counter()
        try:
            response = await http.get(route, params=params)
            key = None if response.status_code == 200 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            key = type(exc).__name__
        latencies.append(time.perf_counter() - sent)
        if key:
            errors[key] = errors.get(key, 0) + 1


def _report(route: str, result: dict[str, Any], args: argparse.Namespace,
            generator: str) -> None:
    errors: dict[str, int] = result["errors"]
    failed = sum(errors.values())
    count, elapsed = result["count"], result["elapsed"]
    verdict = "met" if failed == 0 and result["p99"] < 200 else "NOT met"
    print(f"{route} ({generator}): {count} requests in {elapsed:.1f} s from {args.clients} "
          f"clients, {args.workers} server workers: {count / elapsed:.0f} req/s, "
          f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, errors {failed} "
          f"{errors or ''} -> target (no errors, p99 < 200 ms) {verdict}", flush=True)
