"""Notices: queue N outbox rows for one cut, then push them all through the pipeline (claim,
send with the real twilio client, record) to a loopback Twilio-compatible server with 20 ms
latency, beside the floor: N bare HTTP posts at the same concurrency.

    python -m bench notices --notices 100000 [--concurrency 16] [--db-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import Engine, insert, select

from bench.sms import start_stand_in
from notifier import outbox
from outages import db
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer, Outage, OutageCustomer
from outages.notices import delivery
from outages.settings import Settings, load_settings

SID = "AC" + "0" * 32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--db-url", default="", help="default: a fresh SQLite file")


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = args.db_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        server, port = start_stand_in(args.latency)
        try:
            _bench(args, url, f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait()


def _bench(args: argparse.Namespace, url: str, api_url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    settings = load_settings(environ={
        "OUTAGES_DATABASE_URL": url, "OUTAGES_TWILIO_ACCOUNT_SID": SID,
        "OUTAGES_TWILIO_AUTH_TOKEN": "bench", "OUTAGES_TWILIO_FROM_NUMBER": "+15005550006",
        "OUTAGES_TWILIO_API_URL": api_url, "OUTAGES_TWILIO_RATE_PER_SECOND": "1000000",
        "OUTAGES_NOTICES_QUIET_HOURS": "", "OUTAGES_PLANNED_REMINDERS": "",
        "OUTAGES_WORKER_CONCURRENCY": str(args.concurrency),
    })
    outage = _setup(engine, args.notices)
    queued, seconds = _queue(engine, settings, outage)
    print(f"queue: {queued} outbox rows in {seconds:.2f} s ({queued / seconds:,.0f} rows/s)"
          f"  [target < 5 s for 100,000]", flush=True)
    floor = _floor(api_url, args.notices, args.concurrency)
    print(f"floor: {args.notices} bare HTTP posts, concurrency {args.concurrency}: "
          f"{floor:,.0f} posts/s", flush=True)
    rate = _pipeline(engine, settings, queued)
    print(f"pipeline: {queued} notices claimed, sent with the twilio client and recorded: "
          f"{rate:,.0f} msg/s = {floor / rate:.2f}x the floor  [target >= 500 msg/s, <= 2x]")
    engine.dispose()


def _setup(engine: Engine, count: int) -> int:
    start = datetime.now(UTC) + timedelta(days=6)
    with engine.begin() as conn:
        conn.execute(insert(Customer.__table__), [
            {"code": f"B{i:07d}", "lon": 105.8, "lat": 21.0, "phone": f"+849{i:08d}",
             "language": "vi" if i % 5 else "en"} for i in range(count)])
        outage = conn.execute(insert(Outage.__table__).values(
            kind="planned", status="scheduled", area_name="Quận Đống Đa",
            reason="thay máy biến áp", planned_start=start,
            planned_end=start + timedelta(hours=6)).returning(Outage.id)).scalar_one()
        conn.execute(insert(OutageCustomer.__table__).from_select(
            ["outage_id", "customer_id", "added_revision"],
            select(outage, Customer.id, 1)))
    return int(outage)


def _queue(engine: Engine, settings: Settings, outage: int) -> tuple[int, float]:
    started = time.perf_counter()
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, datetime.now(UTC)))
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        return sum(count for _, _, count in outbox.counts(conn)), seconds


def _floor(api_url: str, count: int, concurrency: int) -> float:
    local = threading.local()
    url = f"{api_url}/2010-04-01/Accounts/{SID}/Messages.json"

    def post(i: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        session.post(url, data={"To": f"+849{i:08d}", "From": "+15005550006", "Body": "x"},
                     auth=(SID, "bench"), timeout=10).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, range(count)))
    return count / (time.perf_counter() - started)


def _pipeline(engine: Engine, settings: Settings, queued: int) -> float:
    dispatcher = delivery.dispatcher(engine, settings)
    started = time.perf_counter()
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()
    seconds = time.perf_counter() - started
    assert dispatcher.sent == queued, f"sent {dispatcher.sent} of {queued}"
    return queued / seconds
