"""Registry benchmark: CSV import of N customers on SQLite and on PostgreSQL, and the preview
of a ~50,000-customer area, each beside its raw floor; and the phone fast path against
phonenumbers over a million numbers.

Import floors, per backend, loading the same CSV with no validation in one transaction: into a
bare table (primary key only), and into a table with the customers table's indexes (its five
secondary ones and one on code). SQLite: sqlite3 executemany; PostgreSQL: COPY of the file.
PostgreSQL runs when --postgres-url (default: $OUTAGES_BENCH_POSTGRES_URL, else
$OUTAGES_TEST_POSTGRES_URL) names a server; the benchmark uses a database of its own there and
drops it. Preview floor: shapely.contains_xy over all points held in memory. The import runs
in a child process so its peak memory (ru_maxrss) is its own. build_registry(url, n, seed)
fills a database quickly for other benchmarks.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from bench.machine import peak_rss_mb
from outages import db
from outages.demo import city as demo_city
from outages.registry.rows import COLUMNS, RowChecker
from outages.registry.store import BatchWriter
from outages.settings import load_settings

TARGET_AREA_CUSTOMERS = 50_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench-out/customers"))
    parser.add_argument("--no-geojson", dest="geojson", action="store_false",
                        help="skip importing the same registry as GeoJSON")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "OUTAGES_BENCH_POSTGRES_URL", os.environ.get("OUTAGES_TEST_POSTGRES_URL", "")),
        help="PostgreSQL server for the import on PostgreSQL (its own database is made)")
    parser.add_argument("--phones", type=int, default=1_000_000,
                        help="numbers to compare between the phone fast path and phonenumbers")


def run(args: argparse.Namespace) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    source = out / "customers.csv"
    started = time.perf_counter()
    demo_city.write_customers_csv(source, args.customers, args.seed)
    print(f"generated {args.customers:,} rows ({source.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    imported = _import_in_child(source, f"sqlite:///{_fresh(out / 'import.db')}")
    bare = _sqlite_floor(source, _fresh(out / "floor-bare.db"), indexed=False)
    indexed = _sqlite_floor(source, _fresh(out / "floor-indexed.db"), indexed=True)
    _report("sqlite", imported, bare, indexed, "sqlite3 executemany")
    if args.postgres_url:
        with _postgres_database(args.postgres_url) as url:
            imported = _import_in_child(source, url)
            bare = Floor(_postgres_floor(source, url, indexed=False))
            indexed = Floor(_postgres_floor(source, url, indexed=True))
        _report("postgres", imported, bare, indexed, "COPY of the file")
    else:
        print("postgres : skipped (no --postgres-url or OUTAGES_BENCH_POSTGRES_URL)")
    if args.geojson:
        features = _write_geojson(source, out / "customers.geojson")
        as_geojson = _import_in_child(features, f"sqlite:///{_fresh(out / 'geojson.db')}")
        print(f"geojson  : {as_geojson['seconds']:.2f} s  ({as_geojson['imported']:,} "
              f"imported, {as_geojson['rejected']:,} rejected, "
              f"{features.stat().st_size / 1e6:.0f} MB file), peak RSS "
              f"{as_geojson['max_rss_mb']:.0f} MB (streamed: memory < 1024 MB)", flush=True)
    _preview(out / "import.db")
    if args.phones:
        _phones(args.phones)


@dataclass(frozen=True)
class Floor:
    seconds: float
    cpu: float | None = None  # user + system seconds in this process, when it did the work


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report(backend: str, imported: dict[str, Any], bare: Floor, indexed: Floor,
            how: str) -> None:
    seconds = imported["seconds"]
    load = os.getloadavg()[0]
    print(f"[{backend}] import : {seconds:.2f} s  ({imported['imported']:,} imported, "
          f"{imported['rejected']:,} rejected), {imported['cpu']:.1f} s CPU (all its threads), "
          f"peak RSS {imported['max_rss_mb']:.0f} MB, load {load:.1f}")
    cpu = f"; {bare.cpu:.1f} and {indexed.cpu:.1f} s CPU" if bare.cpu and indexed.cpu else ""
    print(f"[{backend}] floor  : {bare.seconds:.2f} s bare table (primary key only), "
          f"{indexed.seconds:.2f} s with the same indexes ({how}, no validation{cpu})")
    print(f"[{backend}] ratio  : {seconds / bare.seconds:.2f}x the bare floor (target <= 3x, "
          f"and < 10 s at 1M), {seconds / indexed.seconds:.2f}x the indexed floor; memory "
          "< 1024 MB", flush=True)


def _phones(count: int) -> None:
    from bench.phones import mismatches

    started = time.perf_counter()
    wrong, decided, examples = mismatches(count)
    print(f"phones   : {count:,} random and real-format numbers, {decided:,} decided by the "
          f"fast path; {wrong} differ from phonenumbers (must be 0) "
          f"[{time.perf_counter() - started:.0f} s]{' e.g. ' + repr(examples) if wrong else ''}",
          flush=True)


def _write_geojson(source: Path, target: Path) -> Path:
    """The CSV registry as a FeatureCollection of Points, one feature per line."""
    with source.open(encoding="utf-8", newline="") as rows, \
            target.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for number, row in enumerate(csv.DictReader(rows)):
            try:
                position = [float(row["lon"]), float(row["lat"])]
            except ValueError:
                position = [row["lon"], row["lat"]]  # the bad rows stay bad
            properties = {k: v for k, v in row.items() if k not in ("lon", "lat") and v}
            feature = {"type": "Feature", "properties": properties,
                       "geometry": {"type": "Point", "coordinates": position}}
            out.write(("" if number == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
        out.write("\n]}\n")
    return target


def _fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


def _import_in_child(source: Path, url: str) -> dict[str, Any]:
    child = subprocess.Popen([sys.executable, "-m", "bench.customers", "--child-import",
                              str(source), url], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"import child failed with status {status}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    # The child's own peak (VmHWM); ru_maxrss would start from this process's size.
    result["max_rss_mb"] = result.pop("peak_mb", usage.ru_maxrss / 1024)
    result.setdefault("cpu", usage.ru_utime + usage.ru_stime)  # the import's, else the child's
    return result


def _child_import(source: str, url: str) -> None:
    from outages.registry.importer import import_customers

    settings = load_settings(environ={"OUTAGES_DATABASE_URL": url})
    engine = db.make_engine(settings.database.url)
    db.ensure_schema(engine)
    started, cpu = time.perf_counter(), _cpu()
    result = import_customers(engine, settings, Path(source))
    print(json.dumps({**result.as_json(), "seconds": time.perf_counter() - started,
                      "cpu": _cpu() - cpu, "peak_mb": peak_rss_mb()}))


# The floors' tables: the CSV's columns with a primary key, and (indexed) the customers
# table's secondary indexes plus a plain one on code (the file has duplicate codes, which a
# unique index would refuse).
_FLOOR_TYPES = {"lon": "DOUBLE PRECISION", "lat": "DOUBLE PRECISION", "connected_on": "DATE",
                "disconnected_on": "DATE"}
_FLOOR_INDEXES = ("code", "phone", "region", "district", "feeder", "lon, lat")


def _floor_ddl(name: str, indexed: bool, key: str) -> list[str]:
    columns = ", ".join(f"{c} {_FLOOR_TYPES.get(c, 'TEXT')}" for c in COLUMNS)
    ddl = [f"CREATE TABLE {name} (id {key}, {columns})"]
    if indexed:
        ddl += [f"CREATE INDEX ix_{name}_{i} ON {name} ({c})"
                for i, c in enumerate(_FLOOR_INDEXES)]
    return ddl


def _sqlite_floor(source: Path, database: Path, indexed: bool) -> Floor:
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for statement in _floor_ddl("floor", indexed, "INTEGER PRIMARY KEY"):
        conn.execute(statement)
    sql = f"INSERT INTO floor ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started, cpu = time.perf_counter(), _cpu()
    with source.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        conn.execute("BEGIN")
        conn.executemany(sql, (_floor_row(r) for r in rows))
        conn.execute("COMMIT")
    floor = Floor(time.perf_counter() - started, _cpu() - cpu)
    conn.close()
    return floor


def _postgres_floor(source: Path, url: str, indexed: bool) -> float:
    import psycopg

    name = "floor_indexed" if indexed else "floor_bare"
    with psycopg.connect(_libpq(url)) as conn:
        for statement in _floor_ddl(name, indexed, "BIGSERIAL PRIMARY KEY"):
            conn.execute(statement)  # type: ignore[arg-type]
        conn.commit()
        started = time.perf_counter()
        copy_sql = f"COPY {name} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, cursor.copy(copy_sql) as copy, \
                source.open("rb") as handle:  # type: ignore[arg-type]
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _postgres_database(server: str) -> Iterator[str]:
    """A database of the benchmark's own on `server`, migrated, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"bench_customers_{os.getpid()}"
    admin = _libpq(str(make_url(server).set(database="postgres")))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    url = make_url(server).set(drivername="postgresql+psycopg", database=name)
    try:
        engine = db.make_engine(url.render_as_string(hide_password=False))
        db.upgrade(engine)
        engine.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


def _floor_row(row: list[str]) -> tuple[Any, ...]:
    return (row[0] or None, *row[1:4], _number(row[4]), _number(row[5]), *row[6:])


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _preview(database: Path) -> None:
    from geo import Area
    from outages.registry.preview import affected_today

    conn = sqlite3.connect(database)
    lons, lats = (np.array(c) for c in zip(*conn.execute("SELECT lon, lat FROM customers"),
                                          strict=True))
    conn.close()
    polygon = _area_of_size(lons, lats, TARGET_AREA_CUSTOMERS)
    settings = load_settings(environ={"OUTAGES_DATABASE_URL": f"sqlite:///{database}"})
    engine = db.make_engine(settings.database.url)
    timings = []
    for _ in range(3):  # the first call also opens the connection and compiles the query
        started = time.perf_counter()
        with engine.connect() as connection:
            affected = affected_today(connection, settings, Area(polygon, "bench"))
            for column in ("region", "district", "feeder"):
                affected.breakdown(column)
        timings.append(time.perf_counter() - started)
    ours = min(timings)
    started = time.perf_counter()
    shapely.prepare(polygon)
    floor_count = int(shapely.contains_xy(polygon, lons, lats).sum())
    floor = time.perf_counter() - started
    runs = ", ".join(f"{t:.3f}" for t in timings)
    print(f"preview  : {ours:.3f} s best of 3 ({runs}) for {affected.count:,} customers "
          "(indexed bbox query, covers test, breakdowns; target < 1 s)")
    print(f"floor    : {floor:.3f} s for {floor_count:,} (contains_xy on {len(lons):,} "
          f"in-memory points)")
    print(f"ratio    : {ours / floor:.1f}x", flush=True)


def _area_of_size(lons: Any, lats: Any, target: int) -> Any:
    """A 24-sided area around the city centre whose radius is tuned to hold ~target points."""
    centre = (105.835, 21.02)
    low, high = 0.0005, 0.1
    for _ in range(30):
        radius = (low + high) / 2
        polygon = _circle(centre, radius)
        count = int(shapely.contains_xy(polygon, lons, lats).sum())
        if abs(count - target) < target * 0.01:
            break
        low, high = (radius, high) if count < target else (low, radius)
    return polygon


def _circle(centre: tuple[float, float], radius: float) -> Any:
    ring = [(centre[0] + radius * math.cos(2 * math.pi * k / 24),
             centre[1] + radius * math.sin(2 * math.pi * k / 24)) for k in range(24)]
    return shapely.Polygon(ring)


def build_registry(url: str, n: int, seed: int = 7) -> None:
    """Fill the database at `url` with n clean synthetic customers (for other benchmarks)."""
    settings = load_settings(environ={"OUTAGES_DATABASE_URL": url})
    engine = db.make_engine(url)
    db.ensure_schema(engine)
    checker, writer = RowChecker(settings), BatchWriter(engine, COLUMNS)
    batch: list[Any] = []
    try:
        for raw in demo_city.customer_rows(n, seed, bad_rows=False):
            row, problems = checker.check(raw)
            if problems:
                raise ValueError(f"generator produced a bad row: {problems}")
            batch.append(row)
            if len(batch) >= settings.customers.import_batch:
                writer.write(batch)
                batch.clear()
        if batch:
            writer.write(batch)
    finally:
        writer.close()
        engine.dispose()


if __name__ == "__main__" and sys.argv[1:2] == ["--child-import"]:
    _child_import(sys.argv[2], sys.argv[3])
