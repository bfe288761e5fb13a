"""Yearly reliability report by district at utility scale, on SQLite and on PostgreSQL.

Builds its own database (default 1,000,000 customers, 5,000,000 customer interruptions in the
report year and five years of daily history before it) with bulk inserts straight into the
tables, then times `outages report reliability --by district` (all six variants of the default
table, and the single-variant JSON). Floor: 20 s per report.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from bench import POSTGRES_URL
from bench.scratch import scratch_database
from outages import db
from outages.models import Outage
from outages.reliability import report
from outages.reliability.render import text
from outages.settings import load_settings

TARGET_SECONDS = 20.0
YEAR = 2025
CHUNK = 500_000
DISTRICTS, FEEDERS, OUTAGES = 30, 5000, 60_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interruptions", type=int, default=5_000_000,
                        help="customer interruptions in the report year")
    parser.add_argument("--history-per-day", type=int, default=500,
                        help="customer interruptions per day in the five years before")
    parser.add_argument("--postgres-url", default=POSTGRES_URL,
                        help="server to create (and drop) a scratch database on; '' skips")
    parser.add_argument("--seed", type=int, default=11)


def run(args: argparse.Namespace) -> None:
    data = _synthesise(args)
    print(f"data: {args.customers:,} customers, {len(data['year_rows'][0]):,} interruptions in "
          f"{YEAR}, {len(data['history_rows'][0]):,} in the five years before", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as folder:
        _one("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", data)
    if args.postgres_url:
        with scratch_database(args.postgres_url) as url:
            _one("postgresql", url, data)
    else:
        print("[postgresql] skipped: give --postgres-url")


def _synthesise(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    year_start = int(np.datetime64(f"{YEAR}-01-01T00:00:00", "s").astype(np.int64)) - 7 * 3600
    history_start = int(np.datetime64(f"{YEAR - 5}-01-01T00:00:00", "s").astype(np.int64))
    history_days = (date(YEAR, 1, 1) - date(YEAR - 5, 1, 1)).days
    year = _events(rng, args.customers, args.interruptions, year_start, 365)
    history = _events(rng, args.customers, args.history_per_day * history_days,
                      history_start, history_days)
    return {"customers": args.customers, "year_rows": year, "history_rows": history}


def _events(rng: np.random.Generator, customers: int, rows: int, start: int,
            days: int) -> tuple[np.ndarray, ...]:
    """Outages hitting runs of neighbouring customers (ids in feeder order), ~100 each;
    durations log-normal around 50 min, one in five momentary."""
    sizes = np.clip(rng.poisson(100, rows // 100 + 1), 1, None)
    sizes = sizes[np.cumsum(sizes) <= rows]
    first = rng.integers(1, max(2, customers - 300), len(sizes))
    begin = start + rng.integers(0, days * 86400, len(sizes))
    event = np.repeat(np.arange(len(sizes)), sizes)
    within = np.arange(len(event)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    duration = np.where(rng.random(len(event)) < 0.2, rng.integers(1, 300, len(event)),
                        rng.lognormal(np.log(3000), 0.9, len(event)).astype(np.int64) + 301)
    outage = 1 + event % OUTAGES
    return (outage, first[event] + within, begin[event], begin[event] + duration,
            rng.random(len(sizes))[event] < 0.1)


def _one(backend: str, url: str, data: dict[str, Any]) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    started = time.perf_counter()
    _load(engine, data)
    print(f"[{backend}] bulk load {time.perf_counter() - started:.1f} s", flush=True)
    settings = load_settings(environ={"OUTAGES_DATABASE_URL": url})
    request = report.Request(date(YEAR, 1, 1), date(YEAR, 12, 31), by="district")
    for label, req in (("default table, 6 variants", request),
                       ("json, 1 variant", report.Request(request.first, request.last,
                                                          by="district", planned="include",
                                                          med="include"))):
        started = time.perf_counter()
        with engine.connect() as conn:
            result = report.compute(conn, settings, req)
        rendered = text.to_csv(result)
        seconds = time.perf_counter() - started
        verdict = "ok" if seconds < TARGET_SECONDS else "OVER THE TARGET"
        totals = result.main.totals.indices
        print(f"[{backend}] report by district ({label}): {seconds:.1f} s (target < "
              f"{TARGET_SECONDS:.0f} s: {verdict}); SAIFI {totals['SAIFI']:.4f}, SAIDI "
              f"{totals['SAIDI']:.2f}, {len(result.main.groups)} districts, T_MED "
              f"{result.data.t_med or 0:.3f}, {len(rendered):,} bytes of CSV", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[{backend}] peak memory of the process so far {peak:,.0f} MB", flush=True)
    engine.dispose()


def _load(engine: Engine, data: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Outage.__table__), [
            {"id": i, "kind": "fault", "status": "completed"} for i in range(1, OUTAGES + 1)])
    customers = data["customers"]

    def customer_rows(rows: slice) -> list[list[Any]]:
        ids = np.arange(1, customers + 1)[rows]
        return [ids.tolist(), [f"B{i}" for i in ids.tolist()], [105.8] * len(ids),
                [21.0] * len(ids), ["Ha Noi"] * len(ids),
                [f"District {d}" for d in (ids * DISTRICTS // (customers + 1)).tolist()],
                [f"F{f}" for f in (ids * FEEDERS // (customers + 1)).tolist()]]

    _copy(engine, "customers", ("id", "code", "lon", "lat", "region", "district", "feeder"),
          customers, customer_rows)
    for outage, customer, start, end, planned in (data["history_rows"], data["year_rows"]):

        def interruption_rows(rows: slice, outage: Any = outage, customer: Any = customer,
                              start: Any = start, end: Any = end,
                              planned: Any = planned) -> list[list[Any]]:
            flags = planned[rows]
            return [outage[rows].tolist(), customer[rows].tolist(),
                    flags.astype(int).tolist() if engine.dialect.name == "sqlite"
                    else ["t" if f else "f" for f in flags.tolist()],
                    ["planned" if f else "weather" for f in flags.tolist()],
                    _stamps(start[rows], engine), _stamps(end[rows], engine)]

        _copy(engine, "interruptions",
              ("outage_id", "customer_id", "planned", "cause", "start_at", "end_at"),
              len(outage), interruption_rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def _stamps(epochs: np.ndarray, engine: Engine) -> list[str]:
    """The text each backend stores for a UTCDateTime (SQLite: naive UTC with microseconds)."""
    iso = np.datetime_as_string(epochs.astype("datetime64[s]").astype("datetime64[us]"))
    iso = np.char.replace(iso, "T", " ")
    return (iso if engine.dialect.name == "sqlite" else np.char.add(iso, "+00")).tolist()


def _copy(engine: Engine, table: str, columns: tuple[str, ...], total: int,
          rows: Callable[[slice], list[list[Any]]]) -> None:
    """SQLite: executemany in chunks; PostgreSQL: COPY FROM STDIN. Chunks keep memory flat."""
    for begin in range(0, total, CHUNK):
        part = rows(slice(begin, begin + CHUNK))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if engine.dialect.name == "sqlite":
                marks = ", ".join("?" for _ in columns)
                cursor.execute("BEGIN")
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                   zip(*part, strict=True))
                cursor.execute("COMMIT")
            else:
                text = "".join("\t".join(map(str, row)) + "\n" for row in zip(*part, strict=True))
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write(text)
                raw.commit()
        finally:
            raw.close()
