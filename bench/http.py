"""HTTP load: the public cut lookup under `outages serve` on PostgreSQL.

Creates a throw-away PostgreSQL database, seeds customers and planned cuts, starts the server
on a loopback port, then runs CLIENTS concurrent keep-alive clients (asyncio + httpx) for
SECONDS, each asking "is a cut planned for me?" by customer code (90% of requests) or by
location. The load comes from `wrk` when it is installed (its C event loop leaves the shared
cores to the server) and from an asyncio httpx generator otherwise (`--generator`).
Prints requests/s, p50/p99 latency and errors; the database is dropped afterwards.
Target: no errors, p99 under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, insert

from bench.scratch import scratch_database
from geo import parse_area
from geo.territory import BBox
from outages import db
from outages.models import Customer, Outage, OutageCustomer
from outages.registry.matching import customers_in_area
from outages.timeutil import utcnow
from tests.support.server import running_server

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Hanoi-like city: a 0.3 x 0.3 degree box split into 9 districts.
WEST, SOUTH, SIZE = 105.70, 20.90, 0.30
TERRITORY = BBox(102.0, 8.0, 110.0, 24.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--cuts", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--generator", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "OUTAGES_BENCH_POSTGRES_URL", os.environ.get("OUTAGES_TEST_POSTGRES_URL", DEFAULT_URL)))


def run(args: argparse.Namespace) -> None:
    with scratch_database(args.postgres_url) as url:
        codes = seed(url, args.customers, args.cuts)
        env = {"OUTAGES_DATABASE_URL": url,
               # The limiter protects the public from one abusive address; the load here all
               # comes from 127.0.0.1, so lift it to measure the lookup itself.
               "OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE": "1000000000"}
        generator = args.generator
        if generator == "auto":
            generator = "wrk" if shutil.which("wrk") else "httpx"
        with running_server(env, "--workers", str(args.workers), timeout=60) as base:
            if generator == "wrk":
                result = wrk_load(base, len(codes), args.clients, args.seconds)
            else:
                result = asyncio.run(load(base, codes, args.clients, args.seconds))
    report(result, args, generator)


def seed(url: str, customers: int, cuts: int) -> list[str]:
    started = time.perf_counter()
    engine = db.make_engine(url)
    db.upgrade(engine)
    rng = random.Random(7)
    rows = []
    for i in range(customers):
        lon, lat = WEST + rng.random() * SIZE, SOUTH + rng.random() * SIZE
        district = f"Quan {int((lon - WEST) / SIZE * 3) * 3 + int((lat - SOUTH) / SIZE * 3) + 1}"
        rows.append({"code": f"PD{i:07d}", "name": f"Khach hang {i}", "phone": f"+8491{i:07d}",
                     "lon": lon, "lat": lat, "district": district})
    with engine.begin() as conn:
        conn.execute(insert(Customer.__table__), rows)
        for n in range(cuts):
            _add_cut(conn, rng, n)
    engine.dispose()
    print(f"seeded {customers} customers and {cuts} cuts in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return [row["code"] for row in rows]


def _add_cut(conn: Connection, rng: random.Random, n: int) -> None:
    lon, lat, half = WEST + rng.random() * SIZE, SOUTH + rng.random() * SIZE, 0.01
    polygon = {"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]}
    area = parse_area(polygon, territory=TERRITORY)
    start = utcnow() + timedelta(days=5 + n % 10, hours=n % 8)
    outage_id = conn.execute(insert(Outage.__table__).values(
        kind="planned", status="scheduled", area_name=f"Khu vuc {n}",
        area_geojson=json.dumps(polygon), reason="Bao duong luoi dien",
        planned_start=start, planned_end=start + timedelta(hours=4),
        created_at=utcnow(), updated_at=utcnow()).returning(Outage.__table__.c.id)).scalar_one()
    affected = customers_in_area(conn, area)
    members = [{"outage_id": outage_id, "customer_id": int(c), "added_revision": 1}
               for c in affected.ids]
    if members:
        conn.execute(insert(OutageCustomer.__table__), members)


# wrk script: 90% lookups by a random existing code, 10% by a random point in the city.
WRK_SCRIPT = """
math.randomseed(os.time())
request = function()
  if math.random() < 0.9 then
    return wrk.format("GET", string.format("/public/cuts/lookup?customer=PD%%07d",
                                           math.random(0, %(customers)d - 1)))
  end
  return wrk.format("GET", string.format("/public/cuts/lookup?lon=%%.5f&lat=%%.5f",
                                         %(west)f + math.random() * %(size)f,
                                         %(south)f + math.random() * %(size)f))
end
"""


def wrk_load(base: str, customers: int, clients: int, seconds: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"customers": customers, "west": WEST, "south": SOUTH,
                                   "size": SIZE})
        script.flush()
        completed = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "10s",
             "--latency", "-s", script.name, base], capture_output=True, text=True, check=True)
    return parse_wrk(completed.stdout)


def parse_wrk(output: str) -> dict[str, Any]:
    """Figures from wrk's --latency report."""
    def number(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    count = int(number(r"(\d+) requests in"))
    elapsed = _seconds(number(r"requests in ([\d.]+\w+),", "1s"))
    errors = {}
    non_2xx = int(number(r"Non-2xx or 3xx responses: (\d+)"))
    if non_2xx:
        errors["non-2xx"] = non_2xx
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    if socket:
        for name, value in zip(("connect", "read", "write", "timeout"), socket.groups(),
                               strict=True):
            if int(value):
                errors[name] = int(value)
    return {"count": count, "elapsed": elapsed, "errors": errors,
            "p50": _seconds(number(r"50%\s+([\d.]+\w+)", "nans")) * 1000,
            "p99": _seconds(number(r"99%\s+([\d.]+\w+)", "nans")) * 1000}


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[match.group(2)]
    return float(match.group(1)) * scale


async def load(base: str, codes: list[str], clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(_client(http, codes, deadline, latencies, errors, seed)
                               for seed in range(clients)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


async def _client(http: httpx.AsyncClient, codes: list[str], deadline: float,
                  latencies: list[float], errors: dict[str, int], seed: int) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < deadline:
        if rng.random() < 0.9:
            params = {"customer": rng.choice(codes)}
        else:
            params = {"lon": str(WEST + rng.random() * SIZE),
                      "lat": str(SOUTH + rng.random() * SIZE)}
        sent = time.perf_counter()
        try:
            response = await http.get("/public/cuts/lookup", params=params)
            key = None if response.status_code == 200 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            key = type(exc).__name__
        latencies.append(time.perf_counter() - sent)
        if key:
            errors[key] = errors.get(key, 0) + 1


def report(result: dict[str, Any], args: argparse.Namespace, generator: str) -> None:
    if "latencies" in result:
        latencies = sorted(result["latencies"])
        count = len(latencies)
        result = {**result, "count": count,
                  "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
                  "p99": latencies[min(count - 1, int(count * 0.99))] * 1000
                  if latencies else float("nan")}
    errors: dict[str, int] = result["errors"]
    count, elapsed, p50, p99 = result["count"], result["elapsed"], result["p50"], result["p99"]
    failed = sum(errors.values())
    print(f"lookup ({generator}): {count} requests in {elapsed:.1f} s from {args.clients} "
          f"clients, {args.workers} server workers: {count / elapsed:.0f} req/s, "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {failed} {errors or ''}")
    verdict = "met" if failed == 0 and p99 < 200 else "NOT met"
    print(f"target (no errors, p99 < 200 ms): {verdict}", flush=True)
