"""What an outage change made untrue is not sent even when the planner could not skip it: a
row in flight then (its worker died) comes back later, and a subscriber's row follows a house
without being that house's own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine, update

from notifier import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Outage, OutageCustomer
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import _town, subscribe
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)
DAY_BEFORE = START - timedelta(days=1)
WATCHER = "+84987000001"


def _drain(engine: Engine, settings: Settings, at: datetime) -> None:
    with time_machine.travel(at, tick=True):
        dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(at), concurrency=2)
        try:
            dispatcher.recover(delivery.is_dead)
            dispatcher.drain()
        finally:
            dispatcher.close()


def _revise(engine: Engine, settings: Settings, outage: int, revision: int, kind: str,
            action: str, at: datetime, **changes: Any) -> None:
    with time_machine.travel(at, tick=False), engine.begin() as conn:
        if changes:
            conn.execute(update(Outage.__table__).where(Outage.id == outage).values(**changes))
        if revision > 1:  # the first is written with the outage
            h.add_revision(conn, outage, revision, action, at=at)
        publish(conn, settings, OutageEvent(kind, outage, revision, at))


def test_a_reminder_in_flight_when_the_cut_moved_is_not_sent_when_it_comes_back(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, language="en"))
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8),
                          members=h.customer_ids(engine))
    _revise(engine, settings, outage, 1, "cut_created", "created", NOW)
    _drain(engine, settings, NOW)  # the announcement
    with engine.begin() as conn:  # a worker on another host claims the reminder and dies
        [old] = outbox.claim(conn, now=DAY_BEFORE, limit=1, worker="pod-a:1:aaaaaa")
    moved = DAY_BEFORE + timedelta(minutes=5)
    later = START + timedelta(days=2)
    _revise(engine, settings, outage, 2, "cut_rescheduled", "rescheduled", moved,
            planned_start=later, planned_end=later + timedelta(hours=8))
    _drain(engine, settings, moved + timedelta(minutes=15))  # past the dead worker's lease
    texts = twilio.bodies_to("+84900000000")
    assert len(texts) == 2 and "has moved: now from 9 Dec 10:00" in texts[1]
    [again] = h.rows(engine, id=old.id)
    assert (again.status, again.last_error_code) == ("skipped", "rescheduled")
    assert {r.status for r in h.rows(engine, kind="reminder", revision=2)} == {"pending"}


def test_a_subscriber_of_a_house_taken_out_of_the_cut_gets_no_reminder(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    _town(add_customers)
    ids = h.customer_ids(engine)
    subscribe(engine, WATCHER, code="C0000002")
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8),
                          members=ids[:6])
    _revise(engine, settings, outage, 1, "cut_created", "created", NOW)
    _drain(engine, settings, NOW)
    with engine.begin() as conn:  # the house leaves the cut
        conn.execute(update(OutageCustomer.__table__).where(
            OutageCustomer.outage_id == outage, OutageCustomer.customer_id == ids[2])
            .values(dropped_revision=2))
    _revise(engine, settings, outage, 2, "cut_resized", "resized", NOW + timedelta(hours=1))
    _drain(engine, settings, DAY_BEFORE)
    watcher = {(r.kind, r.status, r.last_error_code) for r in h.rows(engine, recipient=WATCHER)
               if (r.first_due_at or r.due_at) <= DAY_BEFORE}
    assert ("reminder", "skipped", "no_longer_affected") in watcher
    assert not any(kind == "reminder" and status == "sent" for kind, status, _ in watcher)
    assert len([t for t in twilio.bodies_to(WATCHER) if "nhac" in t]) == 0
    others = [r for r in h.rows(engine, kind="reminder") if r.customer_id in ids[:2]
              and r.due_at <= DAY_BEFORE]
    assert others and {r.status for r in others} == {"sent"}


def test_a_subscriber_is_not_told_power_is_back_at_a_house_out_again(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    from sqlalchemy import insert

    from outages.lifecycle import cuts, reopen
    from outages.models import Interruption

    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    _town(add_customers)
    ids = h.customer_ids(engine)[:6]
    subscribe(engine, WATCHER, code="C0000002")
    began = NOW - timedelta(hours=4)
    outage = h.add_outage(engine, status="in_progress", start=began, end=NOW,
                          actual_start=began, members=ids)
    with engine.begin() as conn:
        conn.execute(insert(Interruption.__table__), [
            {"outage_id": outage, "customer_id": c, "planned": True, "start_at": began}
            for c in ids])
    with time_machine.travel(NOW, tick=False):  # the worker is behind: nothing sent yet
        cuts.restore(engine, settings, cut_id=outage, at=None, actor="test", source="cli")
        reopen.report(engine, settings, customer="C0000002", via="cli", actor="test",
                      source="cli")
    _drain(engine, settings, NOW + timedelta(minutes=1))
    [watched] = [r for r in h.rows(engine, recipient=WATCHER) if r.kind == "restored"]
    assert (watched.status, watched.last_error_code) == ("skipped", "reopened")
    assert twilio.bodies_to(WATCHER) == []
    assert len(twilio.bodies_to("+84900000001")) == 1  # a neighbour with power is told
    # An hour later the crew has the house back: its subscriber hears it, once.
    later = NOW + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        cuts.restore(engine, settings, cut_id=outage, at=None, actor="test", source="cli")
    _drain(engine, settings, later + timedelta(minutes=1))
    assert len(twilio.bodies_to(WATCHER)) == 1
    assert len(twilio.bodies_to("+84900000001")) == 1
