"""EVN scale on PostgreSQL: a synthetic northern-Vietnam registry (default 9,000,000
customers; bench/northvn.py) in a database of its own (`bench_scale`, kept for a rerun of
single steps), each step printed beside its floor and target:

- import: the CSV through `outages customers import`'s code path in a child process (time,
  peak RSS < 2 GB) vs COPY of the same file into a bare table;
- preview: a district (~100,000 customers, < 0.3 s) and a province (~1,000,000, < 2 s) through
  the product's preview, vs the same shapely match over the candidates' coordinates already
  in memory;
- typhoon: a fault incident confirmed over a province of ~1,000,000 (faults.confirm: incident,
  members, interruptions and outbox rows in one transaction, < 20 s); then `--workers`
  `outages run` processes drain SMS to the loopback Twilio stand-in (20 ms) for
  `--drain-seconds` (a sample: a million at 20 ms takes longer than a benchmark should) vs
  bare HTTP posts at the same total concurrency; each message once, each worker < 500 MB;
- report: `--interruptions` (20,000,000) interruptions in a year plus five years of history,
  the yearly reliability report by district in a child process (< 60 s, < 4 GB);
- postgis: when the extension can be created, a GiST-indexed ST_Covers against the portable
  bounding-box query + shapely on the same areas (same customers required).

    python -m bench scale --customers 1000000 [--steps import,preview,typhoon,report,postgis]
    python -m bench scale --steps drain   # drain again what the last typhoon left queued

Not part of a plain `make bench`: name it (`make bench BENCH_ARGS=scale`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench import POSTGRES_URL, northvn
from bench.customers import _import_in_child, _libpq, _postgres_floor
from bench.machine import peak_rss_mb
from bench.sms import SENDER, SID, TOKEN
from geo import Area, covered_mask
from outages import db
from outages.settings import Settings, load_settings

DATABASE = "bench_scale"
STEPS = ("import", "preview", "typhoon", "report", "postgis")
DISTRICT, PROVINCE = "TP Thanh Hóa", "Thanh Hóa"
YEAR = 2025


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=9_000_000)
    parser.add_argument("--interruptions", type=int, default=20_000_000)
    parser.add_argument("--postgres-url", default=POSTGRES_URL,
                        help=f"server to make the {DATABASE} database on")
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data/scale"),
                        help="folder for the generated CSV (kept for reruns)")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16, help="per worker")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--drain-seconds", type=float, default=60.0)


def run(args: argparse.Namespace) -> None:
    steps = set(args.steps.split(","))
    url = _url(args.postgres_url, DATABASE)
    print(f"load average at start: {_load()}", flush=True)
    if "import" in steps:
        _import(args, url)
    settings = _settings(url, "http://127.0.0.1:1", args.concurrency)
    engine = db.make_engine(url)
    if "import" not in steps:  # a database kept from a run of older code
        db.upgrade(engine)
    print(f"server  : {_server_settings(engine)}", flush=True)
    try:
        if "preview" in steps:
            _preview(engine, settings)
        if "typhoon" in steps:
            _typhoon(engine, args, url)
        elif "drain" in steps:  # what an earlier typhoon step left queued
            from bench.drain import drain

            with engine.connect() as conn:
                queued = int(conn.execute(text(
                    "SELECT count(*) FROM outbox WHERE channel = 'sms' AND status = 'pending'"
                )).scalar_one())
            drain(engine, url, _environment, args, queued)
        if "report" in steps:
            _report(engine, args, url)
        if "postgis" in steps:
            from bench import postgis

            postgis.compare(engine, [(DISTRICT, northvn.district_area(DISTRICT)),
                                     (PROVINCE, northvn.province_area(PROVINCE))])
    finally:
        engine.dispose()
    print(f"load average at end: {_load()}", flush=True)


SERVER_SETTINGS = ("server_version", "shared_buffers", "work_mem", "maintenance_work_mem",
                   "max_wal_size", "synchronous_commit", "jit", "lc_collate")


def _server_settings(engine: Engine) -> str:
    """The PostgreSQL settings the figures depend on, as the server reports them."""
    with engine.connect() as conn:
        return ", ".join(f"{name} {conn.exec_driver_sql(f'SHOW {name}').scalar_one()}"
                         for name in SERVER_SETTINGS)


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _url(server: str, name: str) -> str:
    return make_url(server).set(drivername="postgresql+psycopg", database=name) \
        .render_as_string(hide_password=False)


def _settings(url: str, api_url: str, concurrency: int) -> Settings:
    return load_settings(environ=_environment(url, api_url, concurrency))


def _environment(url: str, api_url: str, concurrency: int) -> dict[str, str]:
    return {"OUTAGES_DATABASE_URL": url, "OUTAGES_TWILIO_ACCOUNT_SID": SID,
            "OUTAGES_TWILIO_AUTH_TOKEN": TOKEN, "OUTAGES_TWILIO_FROM_NUMBER": SENDER,
            "OUTAGES_TWILIO_API_URL": api_url, "OUTAGES_TWILIO_RATE_PER_SECOND": "1000000",
            "OUTAGES_NOTICES_QUIET_HOURS": "", "OUTAGES_WORKER_CONCURRENCY": str(concurrency)}


# -- import ------------------------------------------------------------------------------

def _import(args: argparse.Namespace, url: str) -> None:
    args.data.mkdir(parents=True, exist_ok=True)
    source = args.data / f"customers-{args.customers}.csv"
    if not source.exists():
        started = time.perf_counter()
        partial = source.with_suffix(".partial")
        northvn.write_csv(partial, args.customers)
        partial.rename(source)
        print(f"generated {args.customers:,} rows ({source.stat().st_size / 1e6:,.0f} MB) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    _recreate(args.postgres_url)
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    load = _load()
    imported = _import_in_child(source, url)
    floor = _postgres_floor(source, url, indexed=False)
    with _admin(url) as conn:
        conn.execute("DROP TABLE floor_bare")
        conn.execute("VACUUM ANALYZE customers")
    seconds, rss = imported["seconds"], imported["max_rss_mb"]
    print(f"import  : {seconds:.1f} s for {imported['imported']:,} customers "
          f"({imported['rejected']:,} rejected), peak RSS {rss:,.0f} MB (target < 2048 MB: "
          f"{_verdict(rss < 2048)}), load {load}")
    print(f"  floor : {floor:.1f} s COPY of the file into a bare table; ratio "
          f"{seconds / floor:.1f}x", flush=True)


def _recreate(server: str) -> None:
    with _admin(_url(server, "postgres")) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def _admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(_libpq(url), autocommit=True)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# -- preview -----------------------------------------------------------------------------

def _preview(engine: Engine, settings: Settings) -> None:
    from outages.registry.preview import affected_today, preview_json

    for label, polygon, target in ((f"district {DISTRICT}", northvn.district_area(DISTRICT),
                                    0.3),
                                   (f"province {PROVINCE}", northvn.province_area(PROVINCE),
                                    2.0)):
        area = Area(polygon, label)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            with engine.connect() as conn:
                result = preview_json(area, affected_today(conn, settings, area))
            timings.append(time.perf_counter() - started)
        lons, lats = _candidates(engine, area)
        started = time.perf_counter()
        floor_count = int(covered_mask(polygon, lons, lats).sum())
        floor = time.perf_counter() - started
        best, runs = min(timings), ", ".join(f"{t:.2f}" for t in timings)
        print(f"preview : {label}: {best:.3f} s best of 3 ({runs})"
              f" for {result.count:,} customers (target < {target} s: "
              f"{_verdict(best < target)}); floor {floor:.3f} s for {floor_count:,} "
              f"(the same match over {len(lons):,} in-memory points); ratio "
              f"{best / floor:.0f}x", flush=True)


def _candidates(engine: Engine, area: Area) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = area.bounds
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT lon, lat FROM customers WHERE lon BETWEEN :x0 AND :x1 "
                                 "AND lat BETWEEN :y0 AND :y1"),
                            {"x0": x0, "x1": x1, "y0": y0, "y1": y1}).all()
    values = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    return values[:, 0], values[:, 1]


# -- typhoon -----------------------------------------------------------------------------

def _typhoon(engine: Engine, args: argparse.Namespace, url: str) -> None:
    from bench.drain import drain

    with engine.begin() as conn:  # a rerun starts from no incident and an empty outbox
        conn.execute(text("TRUNCATE outbox, outage_customers, fault_reports, outage_revisions, "
                          "priority_calls RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM interruptions WHERE outage_id < 1000000"))
        conn.execute(text("DELETE FROM outages WHERE id < 1000000"))
    settings = _settings(url, "http://127.0.0.1:1", args.concurrency)
    outage, seconds = _confirm(engine, settings)
    counts = _typhoon_counts(engine, outage)
    print(f"typhoon : confirmed over {PROVINCE}: {seconds:.1f} s for {counts['members']:,} "
          f"members, {counts['interruptions']:,} interruptions, {counts['outbox']:,} outbox "
          f"rows, one transaction (target < 20 s: {_verdict(seconds < 20)})", flush=True)
    if args.drain_seconds > 0:
        drain(engine, url, _environment, args, counts["outbox_sms"])


def _confirm(engine: Engine, settings: Settings) -> tuple[int, float]:
    import outages.notices  # noqa: F401 - subscribes the notice planner to outage events
    from outages.lifecycle import fault_reports, faults

    polygon = northvn.province_area(PROVINCE)
    centre = polygon.centroid
    at = datetime.now(UTC) - timedelta(minutes=30)
    reported = fault_reports.report(engine, settings, actor="bench", source="bench",
                                    point=(centre.x, centre.y), text="mất điện", at=at)
    started = time.perf_counter()
    faults.confirm(engine, settings, fault_id=reported.outage_id, actor="bench",
                   source="bench", area=Area(polygon, f"tỉnh {PROVINCE}"), cause="weather"
                   if "weather" in settings.faults.causes else None)
    return reported.outage_id, time.perf_counter() - started


def _typhoon_counts(engine: Engine, outage: int) -> dict[str, int]:
    queries = {
        "members": "SELECT count(*) FROM outage_customers WHERE outage_id = :o",
        "interruptions": "SELECT count(*) FROM interruptions WHERE outage_id = :o",
        "outbox": "SELECT count(*) FROM outbox WHERE outage_id = :o",
        "outbox_sms": "SELECT count(*) FROM outbox WHERE outage_id = :o AND channel = 'sms'",
    }
    with engine.connect() as conn:
        return {k: int(conn.execute(text(q), {"o": outage}).scalar_one())
                for k, q in queries.items()}


# -- yearly report -----------------------------------------------------------------------

def _report(engine: Engine, args: argparse.Namespace, url: str) -> None:
    from bench.reliability import OUTAGES, _events

    with engine.connect() as conn:
        customers = int(conn.execute(text("SELECT max(id) FROM customers")).scalar_one())
    started = time.perf_counter()
    rng = np.random.default_rng(11)
    year_start = int(np.datetime64(f"{YEAR}-01-01T00:00:00", "s").astype(np.int64)) - 7 * 3600
    history_start = int(np.datetime64(f"{YEAR - 5}-01-01T00:00:00", "s").astype(np.int64))
    history_days = (date(YEAR, 1, 1) - date(YEAR - 5, 1, 1)).days
    year = _events(rng, customers, args.interruptions, year_start, 365)
    history = _events(rng, customers, 500 * history_days, history_start, history_days)
    first_outage = 1_000_000
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM interruptions WHERE outage_id >= :f"), {"f": first_outage})
        conn.execute(text("DELETE FROM outages WHERE id >= :f"), {"f": first_outage})
        conn.execute(text("INSERT INTO outages (id, kind, status) SELECT g, 'fault', "
                          "'completed' FROM generate_series(:f, :l) g"),
                     {"f": first_outage, "l": first_outage + OUTAGES})
    with _indexes_set_aside(url, "interruptions"):
        for outage, customer, start, end, planned in (history, year):
            _copy_interruptions(url, outage + first_outage, customer, start, end, planned)
    with _admin(url) as conn:
        conn.execute("VACUUM ANALYZE interruptions")
    print(f"report  : loaded {len(year[0]):,} interruptions in {YEAR} and {len(history[0]):,} "
          f"in the five years before over {customers:,} customers in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    del year, history
    result = _child([sys.executable, "-m", "bench.scale", "--child-report", url])
    seconds, rss = result["seconds"], result["max_rss_mb"]
    print(f"report  : yearly reliability by district: {seconds:.1f} s (target < 60 s: "
          f"{_verdict(seconds < 60)}), peak RSS {rss:,.0f} MB (target < 4096 MB: "
          f"{_verdict(rss < 4096)}); {result['groups']} districts, SAIFI {result['saifi']:.4f}"
          f", SAIDI {result['saidi']:.2f}, load {_load()}", flush=True)


# PostgreSQL's binary COPY: every field here has a fixed width ('planned' and 'weather' are
# both 7 bytes), so a chunk of rows is one numpy structured array, built without Python
# objects. Foreign keys are not checked (session_replication_role): the ids are made valid.
_ROW = np.dtype([("fields", ">i2"), ("l1", ">i4"), ("outage", ">i4"), ("l2", ">i4"),
                 ("customer", ">i4"), ("l3", ">i4"), ("planned", "?"), ("l4", ">i4"),
                 ("cause", "S7"), ("l5", ">i4"), ("start", ">i8"), ("l6", ">i4"),
                 ("end", ">i8")])
_PG_EPOCH_S = 946_684_800  # 2000-01-01 in Unix seconds
_COPY_CHUNK = 2_000_000


@contextmanager
def _indexes_set_aside(url: str, name: str) -> Iterator[None]:
    """Load without the table's secondary indexes and build them afterwards (sorted, with
    a generous maintenance_work_mem): maintaining three indexes row by row through a small
    shared_buffers costs ten times more."""
    with _admin(url) as conn:
        definitions = [d for (d,) in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE 'pk_%%'",
            (name,)).fetchall()]
        for definition in definitions:
            conn.execute(f"DROP INDEX {definition.split()[2]}")  # type: ignore[arg-type]
    try:
        yield
    finally:
        with _admin(url) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            for definition in definitions:
                conn.execute(definition)  # type: ignore[arg-type]


def _copy_interruptions(url: str, outage: np.ndarray, customer: np.ndarray, start: np.ndarray,
                        end: np.ndarray, planned: np.ndarray) -> None:
    with _admin(url) as conn:
        conn.execute("SET session_replication_role = replica")
        with conn.cursor() as cursor, cursor.copy(
                "COPY interruptions (outage_id, customer_id, planned, cause, start_at, end_at) "
                "FROM STDIN (FORMAT binary)") as copy:
            copy.write(db.PG_COPY_HEADER)
            for first in range(0, len(outage), _COPY_CHUNK):
                part = slice(first, first + _COPY_CHUNK)
                rows = np.zeros(len(outage[part]), dtype=_ROW)
                rows["fields"] = 6
                for name, width in (("l1", 4), ("l2", 4), ("l3", 1), ("l4", 7), ("l5", 8),
                                    ("l6", 8)):
                    rows[name] = width
                rows["outage"], rows["customer"] = outage[part], customer[part]
                rows["planned"] = planned[part]
                rows["cause"] = np.where(planned[part], b"planned", b"weather")
                rows["start"] = (start[part] - _PG_EPOCH_S) * 1_000_000
                rows["end"] = (end[part] - _PG_EPOCH_S) * 1_000_000
                copy.write(rows.tobytes())
            copy.write(db.PG_COPY_TRAILER)


def _child(command: list[str]) -> dict[str, Any]:
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{command[3]} failed with status {status}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["max_rss_mb"] = result.pop("peak_mb", usage.ru_maxrss / 1024)
    return result


def _child_report(url: str) -> None:
    from outages.reliability import report
    from outages.reliability.render import text as render

    settings = load_settings(environ={"OUTAGES_DATABASE_URL": url})
    engine = db.make_engine(url)
    started = time.perf_counter()
    with engine.connect() as conn:
        result = report.compute(conn, settings, report.Request(
            date(YEAR, 1, 1), date(YEAR, 12, 31), by="district"))
    render.to_csv(result)
    totals = result.main.totals.indices
    print(json.dumps({"seconds": time.perf_counter() - started,
                      "groups": len(result.main.groups), "saifi": totals["SAIFI"],
                      "saidi": totals["SAIDI"], "peak_mb": peak_rss_mb()}))


if __name__ == "__main__" and sys.argv[1:2] == ["--child-report"]:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _child_report(sys.argv[2])
