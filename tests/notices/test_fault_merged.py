"""A duplicate incident merged into the one that stands: each reporter hears what joining
that incident tells them, through the real twilio client. A caller inside the confirmed
target's area gets its acknowledgement with the ETR; a reporter whose "report received" was
still queued gets it from the target instead; one already told hears nothing more; and a
second drain sends nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from notifier.dispatcher import Dispatcher
from outages.lifecycle import fault_merge, fault_reports, faults
from outages.notices import delivery
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0, columns, grid_rows
from tests.lifecycle.test_cuts_create import area
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
ETR = NOW + timedelta(hours=2)  # 12:00 in Hanoi
ACT: dict[str, Any] = {"actor": "dispatcher", "source": "cli"}
CALLER = "+84912345678"  # a tenant's phone: on no account
# About 1 km north of the target's first report, inside its area once it is drawn.
CALLER_AT = (LON0 + 0.002, LAT0 + 0.009)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _drain(engine: Engine, settings: Settings, at: datetime) -> None:
    dispatcher: Dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(at),
                                                 concurrency=2)
    try:
        dispatcher.drain()
        dispatcher.drain()
    finally:
        dispatcher.close()


def test_merged_reporters_hear_what_joining_the_target_tells_them_once(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    grid = {row["code"]: row for row in grid_rows(100)}
    add_customers([grid["C000"], grid["C095"], grid["C097"]])
    told, pending = grid["C095"]["phone"], grid["C097"]["phone"]
    with time_machine.travel(NOW - timedelta(minutes=40), tick=True):
        target = fault_reports.report(engine, settings, customer="C000", **ACT).outage_id
        duplicate = fault_reports.report(engine, settings, phone=CALLER, point=CALLER_AT,
                                         **ACT).outage_id
        assert fault_reports.report(engine, settings, customer="C095",
                                    **ACT).outage_id == duplicate
    _drain(engine, settings, NOW - timedelta(minutes=39))  # "report received" x3
    # Reported after the worker's last round: its "report received" is still queued.
    assert fault_reports.report(engine, settings, customer="C097", **ACT).outage_id == duplicate
    faults.set_etr(engine, settings, fault_id=target, at=ETR, **ACT)
    faults.confirm(engine, settings, fault_id=target,
                   area=area(columns(0, 2), settings),
                   started_at=NOW - timedelta(minutes=45), **ACT)
    view = fault_merge.merge(engine, settings, fault_id=duplicate, into=target, **ACT)
    assert view.status == "merged"
    _drain(engine, settings, NOW + timedelta(minutes=1))
    _drain(engine, settings, NOW + timedelta(minutes=2))  # nothing goes twice

    caller = twilio.bodies_to(CALLER)
    assert len(caller) == 2, caller
    assert "Da tiep nhan bao mat dien" in caller[0]
    assert "Du kien co dien lai: 12:00" in caller[1], caller[1]  # the target's ETR
    assert len(twilio.bodies_to(told)) == 1  # told once by the duplicate: nothing more
    [received] = twilio.bodies_to(pending)
    assert "Da tiep nhan bao mat dien" in received
    [withdrawn] = h.rows(engine, outage_id=duplicate, recipient=pending)
    assert (withdrawn.status, withdrawn.last_error_code) == ("skipped", "fault_merged")
    [sent] = h.rows(engine, outage_id=target, recipient=pending)
    assert (sent.kind, sent.status) == ("fault_report_received", "sent")
    assert h.rows(engine, outage_id=duplicate, status="pending") == []

