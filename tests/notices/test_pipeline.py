"""From an outage event to messages at the (loopback) Twilio API, with an injected clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, select, update

from notifier.dispatcher import Dispatcher
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer, Interruption, Outage
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    # The planner stamps rows with the real clock; the dispatcher gets `h.Clock` below.
    with time_machine.travel(NOW, tick=True):
        yield


def _dispatcher(engine: Engine, settings: Settings, clock: h.Clock) -> Dispatcher:
    return delivery.dispatcher(engine, settings, clock=clock, concurrency=4)


def test_planned_cut_announcement_then_reminders(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(4) + h.customers(2, start=10, language="en"))
    ids = h.customer_ids(engine)
    start = NOW + timedelta(days=6)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    clock = h.Clock(NOW)
    dispatcher = _dispatcher(engine, settings, clock)
    try:
        assert dispatcher.drain() == 6
        assert len(twilio.messages) == 6
        vi = twilio.bodies_to("+84900000000")[0]
        assert vi.startswith("Dien luc Ha Noi: Tam ngung cap dien Phuong Lang Ha "
                             "tu 10:00 ngay 07/12 den 18:00")
        assert "1900 6769" in vi
        assert "Power will be off" in twilio.bodies_to("+84900000010")[0]
        clock.at = start - timedelta(days=1)
        assert dispatcher.drain() == 6
        clock.at = start - timedelta(hours=2)
        assert dispatcher.drain() == 6
    finally:
        dispatcher.close()
    assert len(twilio.bodies_to("+84900000001")) == 3
    sent = h.rows(engine, status="sent")
    assert len(sent) == 18
    assert all(r.provider_id.startswith("SM") and r.attempts == 1 for r in sent)


def test_transient_errors_retry_and_permanent_ones_mark_the_customer(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_RETRY_MAX_ATTEMPTS="3")
    add_customers(h.customers(5, email=True))
    ids = h.customer_ids(engine)
    twilio.fail("+84900000000", 429, 20429, times=2)  # slow down twice, then fine
    twilio.fail("+84900000001", 400, 21211)  # invalid number
    twilio.fail("+84900000002", 400, 21610)  # replied STOP
    twilio.fail("+84900000003", 503, 0, times=5)  # never recovers within 3 attempts
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          etr=NOW + timedelta(hours=3), members=ids, start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    clock = h.Clock(NOW)
    dispatcher = _dispatcher(engine, settings, clock)
    try:
        for _ in range(4):
            dispatcher.drain()
    finally:
        dispatcher.close()
    sms = {r.recipient: r for r in h.rows(engine, channel="sms", kind="fault_ack")}
    assert (sms["+84900000000"].status, sms["+84900000000"].attempts) == ("sent", 3)
    assert (sms["+84900000001"].status, sms["+84900000001"].last_error_code) == ("failed", "21211")
    assert sms["+84900000002"].status == "failed"
    assert (sms["+84900000003"].status, sms["+84900000003"].attempts) == ("failed", 3)
    assert sms["+84900000004"].status == "sent"
    with engine.connect() as conn:
        flags = {r.phone: (r.phone_invalid, r.sms_opt_out)
                 for r in conn.execute(select(Customer.__table__))}
    assert flags["+84900000001"] == (True, False)
    assert flags["+84900000002"] == (False, True)
    assert flags["+84900000004"] == (False, False)
    # Every customer has an email, so each got the acknowledgement by email exactly once.
    emails = h.rows(engine, channel="email", kind="fault_ack")
    assert sorted(r.customer_id for r in emails) == ids


def test_fault_flow_etr_change_min_interval_restoration_and_etr_passed(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(3))
    ids = h.customer_ids(engine)
    etr = NOW + timedelta(hours=2)
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          etr=etr, members=ids, start=None, reason="sự cố cáp ngầm")
    clock = h.Clock(NOW)
    dispatcher = _dispatcher(engine, settings, clock)
    try:
        with engine.begin() as conn:
            publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
        assert dispatcher.drain() == 3
        with engine.begin() as conn:  # moved 20 minutes: less than notices.etr_change_min
            _set_etr(conn, outage, 2, etr + timedelta(minutes=20))
            publish(conn, settings, OutageEvent("etr_changed", outage, 2, NOW))
        assert h.rows(engine, kind="etr_update") == []
        with engine.begin() as conn:  # 45 minutes after the ETR announced: tell them
            _set_etr(conn, outage, 3, etr + timedelta(minutes=45))
            publish(conn, settings, OutageEvent("etr_changed", outage, 3, NOW))
        # ... once notices.etr_min_interval has passed since the acknowledgement
        assert dispatcher.drain() == 0
        clock.at = NOW + timedelta(minutes=30)
        assert dispatcher.drain() == 3
        passed = h.rows(engine, kind="etr_passed", status="pending")
        assert {r.due_at for r in passed} == {etr + timedelta(minutes=45)}
        # the first customer is restored before the ETR: no "ETR passed" for them
        clock.at = NOW + timedelta(hours=1)
        with engine.begin() as conn:
            conn.execute(update(Interruption.__table__).values(end_at=clock.at))
            publish(conn, settings, OutageEvent("restored", outage, 4, clock.at,
                                                customer_ids=[ids[0]]))
        clock.at = etr + timedelta(hours=1)
        assert dispatcher.drain() == 3
    finally:
        dispatcher.close()
    first = twilio.bodies_to("+84900000000")
    second = twilio.bodies_to("+84900000001")
    assert [b.split(":")[1].split()[0] for b in first] == ["Su", "Cap", "Da"]
    assert "tu 10:00 hom nay (su co cap ngam)" in first[0]
    assert "du kien co dien lai 12:45." in second[1]  # 10:00 + 2h45 local, the update
    assert "chua khac phuc xong" in second[2]
    assert len(second) == 3


def _set_etr(conn: Any, outage: int, revision: int, etr: datetime) -> None:
    conn.execute(update(Outage.__table__).where(Outage.id == outage).values(etr=etr))
    h.add_revision(conn, outage, revision, "etr", at=NOW)


def test_restart_asks_the_provider_about_rows_left_in_flight(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    from email.utils import format_datetime

    from notifier import outbox as ob

    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    claimed = NOW - timedelta(minutes=20)  # by a worker on another host, lease expired
    # The provider accepted the first one after the claim; for the second it only has an
    # identical text from the day before (a reminder that reads the same).
    twilio.messages.append({"To": "+84900000000", "From": "+15005550006", "Body": "Mat dien",
                            "Sid": "SMfirst", "DateCreated": format_datetime(claimed, True)})
    twilio.messages.append({"To": "+84900000001", "From": "+15005550006", "Body": "Mat dien",
                            "Sid": "SMold",
                            "DateCreated": format_datetime(claimed - timedelta(days=1), True)})
    with engine.begin() as conn:
        ob.enqueue(conn, [
            {"key": f"k{i}", "customer_id": c, "kind": "reminder", "channel": "sms",
             "recipient": f"+8490000000{i}", "language": "vi", "due_at": claimed,
             "status": "sending", "attempts": 1, "claimed_by": "elsewhere:1:abc",
             "claimed_at": claimed, "body": "Mat dien", "created_at": claimed,
             "updated_at": claimed}
            for i, c in enumerate(ids)])
    dispatcher = _dispatcher(engine, settings, h.Clock(NOW))
    try:
        from outages.notices.delivery import is_dead

        assert dispatcher.recover(is_dead) == 1
        assert dispatcher.drain() == 1
    finally:
        dispatcher.close()
    rows = {r.recipient: r for r in h.rows(engine)}
    assert (rows["+84900000000"].status, rows["+84900000000"].provider_id) == ("sent", "SMfirst")
    assert rows["+84900000001"].status == "sent"
    assert rows["+84900000001"].provider_id not in ("SMold", None)
    assert len(twilio.bodies_to("+84900000001")) == 2 and twilio.bodies_to("+84900000000") == \
        ["Mat dien"]
