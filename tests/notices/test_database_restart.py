"""A PostgreSQL restart under a running worker and a running server (a private cluster,
so that other test runs on the shared server are not disturbed)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from notifier.store import outbox
from outages import db
from outages.lifecycle.events import OutageEvent, publish
from outages.settings import load_settings
from tests.conftest import insert_customers
from tests.notices import helpers as h
from tests.support.private_postgres import binaries, private_postgres
from tests.support.server import running_server
from tests.support.twilio_server import TwilioServer

OUTAGES = str(Path(sys.executable).parent / "outages")
NOTICES = 2000


def _get_all(base: str, count: int) -> list[int]:
    """`count` concurrent public requests, each reading the database; their statuses."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: httpx.get(f"{base}/public/outages", timeout=10).status_code,
                             range(count)))


def _follow(worker: subprocess.Popen[str],
            ) -> tuple[list[str], threading.Event, threading.Thread]:
    """The worker's log lines as they come, an event set when it reports the database
    unreachable, and the thread reading them (it ends with the worker's stderr)."""
    lines: list[str] = []
    noticed = threading.Event()

    def read() -> None:
        assert worker.stderr is not None
        for line in worker.stderr:
            lines.append(line)
            if "database unreachable" in line:
                noticed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, noticed, reader


@pytest.mark.slow
def test_worker_and_server_ride_out_a_database_restart(
        twilio: TwilioServer, twilio_env: dict[str, str]) -> None:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) are not installed")
    with private_postgres(bin_dir) as cluster:
        env = {**twilio_env, "OUTAGES_DATABASE_URL": cluster.url,
               "OUTAGES_WORKER_CONCURRENCY": "8", "OUTAGES_WORKER_CLAIM_BATCH": "200",
               "OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE": "100000"}
        engine = db.make_engine(cluster.url)
        db.upgrade(engine)
        insert_customers(engine, h.customers(NOTICES))
        now = datetime.now(UTC)
        outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=now,
                              etr=None, members=h.customer_ids(engine), start=None)
        with engine.begin() as conn:
            publish(conn, load_settings(environ=env), OutageEvent("fault_confirmed", outage, 1,
                                                                  now))
        engine.dispose()
        twilio.latency = 0.02
        with running_server(env) as base:
            assert _get_all(base, 8) == [200] * 8  # the server's pool holds connections
            worker = subprocess.Popen([OUTAGES, "run", "--until-idle", "--timeout", "120"],
                                      env={**os.environ, **env}, stderr=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, text=True)
            log_lines, noticed, reader = _follow(worker)
            assert twilio.wait_for_count(300, timeout=30), "the worker sent too little"
            # Down until the worker has met the outage: a restart quicker than its next use
            # of the database would be ridden out unseen (its pool reconnects on checkout).
            with cluster.down():
                sent_at_restart = twilio.count
                assert noticed.wait(30), "the worker never found the database gone"
            after_restart = [_get_all(base, 8) for _ in range(3)]
            worker.wait(timeout=180)
            reader.join(timeout=10)
        engine = db.make_engine(cluster.url)
        with engine.connect() as conn:
            statuses = dict(conn.execute(select(outbox.c.status, func.count())
                                         .group_by(outbox.c.status)).all())
        engine.dispose()
    log = "".join(log_lines)
    assert 300 <= sent_at_restart < NOTICES, "restart the database while the worker sends"
    assert after_restart == [[200] * 8] * 3
    assert worker.returncode == 0, log
    assert "Traceback" not in log and log.count("database unreachable") == 1, log
    assert "database reachable again" in log
    assert statuses == {"sent": NOTICES}
    per_phone = Counter(m["To"] for m in twilio.messages)
    assert len(per_phone) == NOTICES and set(per_phone.values()) == {1}
