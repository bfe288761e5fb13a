"""Honest ETRs: "ETR passed" once when an ETR goes by, an ETR update only for a move of at
least notices.etr_change_min from the one a customer was told, and at most one ETR notice per
customer per notices.etr_min_interval."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, insert, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Interruption, Outage, OutageCustomer
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
ETR = NOW + timedelta(hours=2)  # 12:00 in Hanoi


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _drain(engine: Engine, settings: Settings) -> int:
    now = datetime.now(UTC)
    dispatcher = delivery.dispatcher(engine, settings, clock=lambda: now, concurrency=2)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


def _incident(engine: Engine, settings: Settings, ids: list[int],
              etr: datetime | None = ETR) -> int:
    """A confirmed incident whose acknowledgement (with `etr`) went out at NOW."""
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW, etr=etr,
                          members=ids, start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    assert _drain(engine, settings) == len(ids)
    return outage


def _move_etr(engine: Engine, settings: Settings, outage: int, revision: int,
              etr: datetime) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.id == outage).values(etr=etr))
        h.add_revision(conn, outage, revision, "etr", at=now)
        publish(conn, settings, OutageEvent("etr_changed", outage, revision, now))


def test_etr_passed_goes_out_once_with_the_time_of_the_next_update(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2) + h.customers(1, start=10, language="en"))
    _incident(engine, settings, h.customer_ids(engine))
    clock.move_to(ETR - timedelta(minutes=1))
    assert _drain(engine, settings) == 0
    clock.move_to(ETR + timedelta(minutes=1))
    assert _drain(engine, settings) == 3
    clock.move_to(ETR + timedelta(hours=3))
    assert _drain(engine, settings) == 0
    vi, en = twilio.bodies_to("+84900000000"), twilio.bodies_to("+84900000010")
    assert len(vi) == len(en) == 2
    # 12:00 plus notices.etr_min_interval
    assert "Chung toi van dang khac phuc, se cap nhat truoc 12:30." in vi[1]
    assert "We are still working on it; next update by 12:30." in en[1]
    assert len(h.rows(engine, kind="etr_passed", status="sent")) == 3


def test_small_etr_moves_send_nothing(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    outage = _incident(engine, settings, h.customer_ids(engine))
    clock.move_to(NOW + timedelta(hours=1))  # long after the acknowledgement
    _move_etr(engine, settings, outage, 2, ETR + timedelta(minutes=20))
    _move_etr(engine, settings, outage, 3, ETR - timedelta(minutes=25))
    assert h.rows(engine, kind="etr_update") == []
    # 35 minutes from the 12:00 the customers were told, though 15 from the last ETR set
    _move_etr(engine, settings, outage, 4, ETR + timedelta(minutes=35))
    assert _drain(engine, settings) == 2
    assert "du kien co dien lai 12:35." in twilio.bodies_to("+84900000000")[1]


def test_at_most_one_etr_notice_per_customer_per_interval(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_ETR_MIN_INTERVAL="40m")
    add_customers(h.customers(2))
    outage = _incident(engine, settings, h.customer_ids(engine))
    clock.move_to(NOW + timedelta(minutes=10))
    _move_etr(engine, settings, outage, 2, ETR + timedelta(hours=1))
    assert _drain(engine, settings) == 0  # the acknowledgement went 10 minutes ago
    assert {r.due_at for r in h.rows(engine, kind="etr_update")} == {NOW + timedelta(minutes=40)}
    clock.move_to(NOW + timedelta(minutes=40))
    assert _drain(engine, settings) == 2
    clock.move_to(NOW + timedelta(minutes=50))
    _move_etr(engine, settings, outage, 3, ETR + timedelta(hours=2))
    assert _drain(engine, settings) == 0
    clock.move_to(NOW + timedelta(minutes=80))
    assert _drain(engine, settings) == 2
    bodies = twilio.bodies_to("+84900000001")
    assert len(bodies) == 3 and "du kien co dien lai 14:00." in bodies[2]


def test_the_first_etr_after_an_acknowledgement_without_one_goes_at_once(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    outage = _incident(engine, settings, h.customer_ids(engine), etr=None)
    clock.move_to(NOW + timedelta(minutes=5))
    _move_etr(engine, settings, outage, 2, ETR)
    assert _drain(engine, settings) == 2


def test_setting_an_etr_tells_the_desk_who_hears_it_and_when(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    from outages.lifecycle import faults

    settings = make_settings(**twilio_env)
    add_customers(h.customers(3))
    outage = _incident(engine, settings, h.customer_ids(engine))
    with engine.begin() as conn:  # the incident's people are out since NOW
        conn.execute(insert(Interruption.__table__), [
            {"outage_id": outage, "customer_id": c, "planned": False, "start_at": NOW}
            for c in h.customer_ids(engine)])
    clock.move_to(NOW + timedelta(minutes=10))
    act = {"actor": "desk", "source": "cli"}
    small = faults.set_etr(engine, settings, fault_id=outage, at=ETR + timedelta(minutes=10),
                           **act)
    assert [(w.code, w.count) for w in small.warnings or []] == [("etr_not_sent", 3)]
    assert "less than 30m from the one they were told" in (small.warnings or [])[0].message
    moved = faults.set_etr(engine, settings, fault_id=outage, at=ETR + timedelta(hours=1),
                           **act)
    assert [(w.code, w.count) for w in moved.warnings or []] == [("etr_sent_later", 3)]
    assert "they get this one from 2026-12-01 10:30 +07" in (moved.warnings or [])[0].message


def test_each_customer_is_measured_against_the_etr_they_were_told(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    first, joined = h.customer_ids(engine)
    outage = _incident(engine, settings, [first])  # told 12:00
    clock.move_to(NOW + timedelta(hours=1))
    _move_etr(engine, settings, outage, 2, ETR + timedelta(minutes=20))  # too small to send
    with engine.begin() as conn:  # the area grows: the newcomer is told 12:20
        conn.execute(insert(OutageCustomer.__table__).values(
            outage_id=outage, customer_id=joined, added_revision=3))
        h.add_revision(conn, outage, 3, "resized", at=datetime.now(UTC))
        publish(conn, settings, OutageEvent("fault_resized", outage, 3, datetime.now(UTC)))
    assert _drain(engine, settings) == 1
    _move_etr(engine, settings, outage, 4, ETR + timedelta(minutes=35))
    assert _drain(engine, settings) == 1  # 35 minutes from 12:00, 15 from 12:20
    assert "du kien co dien lai 12:35." in twilio.bodies_to("+84900000000")[1]
    assert len(twilio.bodies_to("+84900000001")) == 1


def test_etr_passed_waits_the_interval_after_an_update_just_before_the_etr(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    outage = _incident(engine, settings, h.customer_ids(engine))
    clock.move_to(NOW + timedelta(minutes=40))  # 10:40: the ETR becomes 11:00
    _move_etr(engine, settings, outage, 2, NOW + timedelta(hours=1))
    assert _drain(engine, settings) == 2
    clock.move_to(NOW + timedelta(hours=1, minutes=1))
    assert _drain(engine, settings) == 0  # the update went only 21 minutes ago
    clock.move_to(NOW + timedelta(hours=1, minutes=10))
    assert _drain(engine, settings) == 2
    bodies = twilio.bodies_to("+84900000000")
    assert len(bodies) == 3 and "se cap nhat truoc 11:40." in bodies[2]


def test_an_etr_moved_and_moved_back_is_still_followed_by_etr_passed(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    outage = _incident(engine, settings, h.customer_ids(engine))
    clock.move_to(NOW + timedelta(minutes=5))
    _move_etr(engine, settings, outage, 2, ETR + timedelta(hours=1))
    clock.move_to(NOW + timedelta(minutes=6))  # a typo corrected: back to 12:00
    _move_etr(engine, settings, outage, 3, ETR)
    pending = h.rows(engine, kind="etr_passed", status="pending")
    assert len(pending) == 2 and {r.ref_at for r in pending} == {ETR}
    clock.move_to(ETR + timedelta(minutes=1))
    _drain(engine, settings)
    assert len(h.rows(engine, kind="etr_passed", status="sent")) == 2
    assert all("se cap nhat truoc" in twilio.bodies_to(f"+8490000000{i}")[-1] for i in (0, 1))
