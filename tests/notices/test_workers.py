"""Real `outages run` processes: a SIGKILL mid-send, and two workers sharing PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from notifier.store import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

OUTAGES = str(Path(sys.executable).parent / "outages")


def _queue_fault_acks(engine: Engine, settings: Settings, add_customers: Any, count: int) -> None:
    add_customers(h.customers(count))
    now = datetime.now(UTC)
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=now,
                          etr=None, members=h.customer_ids(engine),
                          start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, now))


# The workers are other processes: the test clock (OUTAGES_TEST_CLOCK) cannot reach them.
pytestmark = pytest.mark.real_clock


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([OUTAGES, "run", *args], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _status(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        return dict(conn.execute(query).all())  # type: ignore[arg-type]


@pytest.mark.slow
def test_sigkill_mid_send_then_restart_sends_everything_once_except_in_flight(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], test_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _queue_fault_acks(engine, settings, add_customers, 2000)
    twilio.latency = 0.01
    env = {**test_env, **twilio_env, "OUTAGES_WORKER_CONCURRENCY": "8"}
    first = _worker(env, "--until-idle")
    assert twilio.wait_for_count(600, timeout=120), "the worker sent nothing"
    first.send_signal(signal.SIGKILL)
    first.wait()
    sent_before = twilio.count
    with engine.connect() as conn:
        claimed = set(conn.execute(select(outbox.c.recipient)
                                   .where(outbox.c.status == "sending")).scalars())
    assert 0 < sent_before < 2000, "kill the worker while it is sending"
    second = _worker(env, "--until-idle", "--timeout", "60")
    _, err = second.communicate(timeout=90)
    assert second.returncode == 0, err.decode()
    assert _status(engine) == {"sent": 2000}
    per_phone = Counter(m["To"] for m in twilio.messages)
    duplicates = sum(n - 1 for n in per_phone.values())
    assert len(per_phone) == 2000
    print(f"\nkilled after {sent_before} sends; {len(claimed)} claimed but unrecorded; "
          f"{duplicates} duplicates")
    # Only rows claimed and unrecorded at the kill could repeat; the restarted worker asks
    # the provider about each of them first, so none does.
    assert {phone for phone, n in per_phone.items() if n > 1} <= claimed
    assert duplicates == 0


@pytest.mark.postgres_only
@pytest.mark.slow
def test_two_workers_on_postgresql_send_each_notice_exactly_once(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], test_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _queue_fault_acks(engine, settings, add_customers, 10_000)
    env = {**test_env, **twilio_env, "OUTAGES_WORKER_CONCURRENCY": "8",
           "OUTAGES_WORKER_CLAIM_BATCH": "100", "OUTAGES_TWILIO_RATE_PER_SECOND": "100000"}
    workers = [_worker(env, "--until-idle", "--timeout", "60") for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=90)
        assert worker.returncode == 0, err.decode()
    assert _status(engine) == {"sent": 10_000}
    per_phone = Counter(m["To"] for m in twilio.messages)
    assert len(per_phone) == 10_000 and set(per_phone.values()) == {1}
    with engine.connect() as conn:
        claimers = conn.execute(select(outbox.c.claimed_by).distinct()).scalars().all()
    assert len(claimers) == 2  # both workers took part


def test_sigterm_finishes_sends_in_flight_and_leaves_nothing_claimed(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], test_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _queue_fault_acks(engine, settings, add_customers, 400)
    twilio.latency = 0.05
    env = {**test_env, **twilio_env, "OUTAGES_WORKER_CONCURRENCY": "4"}
    worker = _worker(env)  # the long-running mode
    assert twilio.wait_for_count(40, timeout=120), "the worker sent nothing"
    worker.send_signal(signal.SIGTERM)
    at_signal = twilio.count
    _, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err.decode()
    status = _status(engine)
    assert "sending" not in status
    assert 0 < status["sent"] < 400 and status["sent"] + status["pending"] == 400
    assert status["sent"] == twilio.count  # everything sent was recorded, nothing twice
    # It stopped soon: the sends in flight, and at most one more each thread had taken up as
    # the signal came; the rest of the batch went back unsent.
    assert twilio.count - at_signal <= 2 * 4
