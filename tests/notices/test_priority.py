"""Priority customers (life support, medical, critical facility): an extra reminder before a
planned cut, and notices of faults and urgent cuts at once, quiet hours or not, and first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.settings import Settings
from tests.notices import helpers as h

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=8)
NIGHT = datetime(2026, 12, 1, 17, 50, tzinfo=UTC)  # 00:50 in Hanoi, inside quiet hours
MORNING = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 07:00 in Hanoi, when quiet hours end


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ids(engine: Engine, add_customers: Any) -> list[int]:
    """Four customers; the third one lives on home oxygen."""
    add_customers(h.customers(4))
    ids = h.customer_ids(engine)
    with engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.id == ids[2])
                     .values(priority="life_support"))
    return ids


def _publish(engine: Engine, settings: Settings, kind: Any, outage: int, at: datetime) -> None:
    with time_machine.travel(at, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent(kind, outage, 1, at))


def _due(engine: Engine, kind: str) -> dict[int, tuple[datetime, bool]]:
    return {r.customer_id: (r.due_at, r.urgent) for r in h.rows(engine, kind=kind)}


def test_priority_customers_get_an_extra_reminder(engine: Engine, settings: Settings,
                                                  ids: list[int]) -> None:
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    _publish(engine, settings, "cut_created", outage, NOW)
    reminders = {(r.customer_id, r.due_at) for r in h.rows(engine, kind="reminder")}
    everyone = {(c, START - offset) for c in ids
                for offset in (timedelta(days=1), timedelta(hours=2))}
    assert reminders == everyone | {(ids[2], START - timedelta(days=3))}


def test_no_extra_reminder_before_the_announcement(engine: Engine, settings: Settings,
                                                   ids: list[int]) -> None:
    soon = NOW + timedelta(days=2)  # three days before the start has passed
    outage = h.add_outage(engine, start=soon, end=soon + timedelta(hours=2), members=ids,
                          urgent=True, urgent_reason="a leaking transformer")
    _publish(engine, settings, "cut_created", outage, NOW)
    assert {r.due_at for r in h.rows(engine, kind="reminder")} == {
        soon - timedelta(days=1), soon - timedelta(hours=2)}


def test_an_urgent_cut_at_night_reaches_only_priority_customers_at_once(
    engine: Engine, settings: Settings, ids: list[int],
) -> None:
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=2), members=ids,
                          urgent=True, urgent_reason="a leaking transformer")
    _publish(engine, settings, "cut_created", outage, NIGHT)
    due = _due(engine, "announcement")
    assert due == {c: (NIGHT, True) if c == ids[2] else (MORNING, False) for c in ids}
    first = h.rows(engine, kind="announcement")[0]
    assert first.customer_id == ids[2]  # written first: workers claim by (due_at, id)


def test_a_cut_with_notice_kept_waits_for_the_morning_for_everyone(
    engine: Engine, settings: Settings, ids: list[int],
) -> None:
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=2), members=ids)
    _publish(engine, settings, "cut_created", outage, NIGHT)
    assert _due(engine, "announcement") == {c: (MORNING, False) for c in ids}


def test_a_fault_at_night_reaches_priority_customers_at_once_and_first(
    engine: Engine, make_settings: Callable[..., Settings], ids: list[int],
) -> None:
    settings = make_settings(OUTAGES_NOTICES_URGENT_KINDS="etr_passed")  # fault_ack may wait
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NIGHT,
                          etr=NIGHT + timedelta(hours=3), members=ids)
    _publish(engine, settings, "fault_confirmed", outage, NIGHT)
    assert _due(engine, "fault_ack") == {
        c: (NIGHT, True) if c == ids[2] else (MORNING, False) for c in ids}
    assert h.rows(engine, kind="fault_ack")[0].customer_id == ids[2]


def test_with_every_fault_notice_urgent_priority_customers_still_come_first(
    engine: Engine, settings: Settings, ids: list[int],
) -> None:
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NIGHT,
                          etr=NIGHT + timedelta(hours=3), members=ids)
    _publish(engine, settings, "fault_confirmed", outage, NIGHT)
    rows = h.rows(engine, kind="fault_ack")
    first, *rest = [r.customer_id for r in rows]
    assert (first, sorted(rest)) == (ids[2], [ids[0], ids[1], ids[3]])
    assert {r.due_at for r in rows} == {NIGHT}
