"""Notices a dead worker left in flight are sent by a worker that is already running, once
that worker can tell the claim is abandoned: not only by one that starts afterwards."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine

from notifier import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.notices import delivery
from outages.notices.worker import Worker
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)


def test_a_running_worker_sends_what_a_worker_on_another_host_left_once_its_lease_ran_out(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(2))
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8),
                          members=h.customer_ids(engine))
    with time_machine.travel(NOW, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    with engine.begin() as conn:  # a worker on another host claims both, then is killed
        assert len(outbox.claim(conn, now=NOW, limit=2, worker="pod-a:1:aaaaaa")) == 2
    clock = h.Clock(NOW + timedelta(minutes=2))  # its replacement starts soon after
    worker = Worker(engine, settings, delivery.dispatcher(engine, settings, clock=clock))
    try:
        with time_machine.travel(clock.at, tick=True):
            assert worker.sweep() == 0  # the claims may still be alive
        assert twilio.bodies_to("+84900000000") == []
        for minutes in (5, 11, 12):  # the worker ticks on; the lease is 10 minutes
            clock.at = NOW + timedelta(minutes=minutes)
            with time_machine.travel(clock.at, tick=True):
                worker.tick()
    finally:
        worker.close()
    rows = h.rows(engine, kind="announcement")
    assert {(r.status, r.attempts) for r in rows} == {("sent", 2)}
    assert len(twilio.bodies_to("+84900000000")) == len(twilio.bodies_to("+84900000001")) == 1


def test_a_claim_under_this_process_id_by_another_worker_is_a_predecessors() -> None:
    host = socket.gethostname()
    now = datetime.now(UTC)
    # A container restarted under the same host name runs its worker as the same pid.
    assert delivery.is_dead(f"{host}:{os.getpid()}:before", now)
    assert not delivery.is_dead(f"{host}:{os.getppid()}:alive", now)  # a live process
    assert not delivery.is_dead("other-host:1:abcdef", now)  # another host: the lease says
    assert delivery.is_dead("other-host:1:abcdef", now - delivery.CLAIM_LEASE * 2)
