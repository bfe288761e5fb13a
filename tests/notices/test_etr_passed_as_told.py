""""ETR passed" says the ETR the customer was told was not kept. A customer who was never
told the ETR that passed (their update came after it and said the time is not yet known, or
never came: a move smaller than notices.etr_change_min) hears of the one they were told, or,
with none passed, nothing: "not fixed by 10:20 as expected" would name a time they never
expected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.lifecycle.events import OutageEvent, publish
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_etr_notices import ETR, NOW, _drain, _incident, _move_etr
from tests.notices.test_subscriptions import WATCHER, subscribe
from tests.support.twilio_server import TwilioServer

PHONE = "+84900000000"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _after_ack(twilio: TwilioServer) -> list[str]:
    return twilio.bodies_to(PHONE)[1:]


def test_an_etr_announced_too_late_to_be_told_is_not_said_to_have_passed(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(minutes=10))  # 10:10: the crew says 10:20
    _move_etr(engine, settings, outage, 2, NOW + timedelta(minutes=20))
    clock.move_to(NOW + timedelta(minutes=31))  # the update, held to 10:30: "not yet known"
    _drain(engine, settings)
    clock.move_to(NOW + timedelta(minutes=61))  # when "ETR passed" fell due
    _drain(engine, settings)
    assert datetime.now(UTC) < ETR
    sent = _after_ack(twilio)
    assert len(sent) == 1 and "du kien co dien lai chua xac dinh." in sent[0], sent
    passed = h.rows(engine, kind="etr_passed", ref_at=NOW + timedelta(minutes=20))
    assert [(r.status, r.last_error_code) for r in passed] == [("skipped", "etr_not_told")]


def test_an_update_falling_due_with_the_passing_of_its_etr_is_not_superseded_by_it(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_ETR_MIN_INTERVAL="10m")
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(minutes=5))  # 10:05: the crew says 10:08
    _move_etr(engine, settings, outage, 2, NOW + timedelta(minutes=8))
    # The update waits to 10:10, "ETR passed" to 10:20; the worker is back at 10:20.
    clock.move_to(NOW + timedelta(minutes=20))
    _drain(engine, settings)
    sent = _after_ack(twilio)
    assert not any("10:08" in body for body in sent), sent
    assert len(sent) == 1 and "du kien co dien lai chua xac dinh." in sent[0], sent
    assert [r.status for r in h.rows(engine, kind="etr_update")] == ["sent"]


def test_a_customer_told_an_etr_close_to_the_new_one_hears_that_their_own_passed(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(hours=1))  # 11:00: 12:20, too close to 12:00 to tell
    _move_etr(engine, settings, outage, 2, ETR + timedelta(minutes=20))
    assert h.rows(engine, kind="etr_update") == []
    clock.move_to(ETR + timedelta(minutes=21))
    _drain(engine, settings)
    sent = _after_ack(twilio)
    assert len(sent) == 1, sent
    assert "chua khac phuc xong nhu du kien 12:00." in sent[0], sent
    assert "12:20" not in sent[0]


def test_the_etr_the_customer_was_told_passing_is_said_as_before(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(hours=1))  # 11:00: 13:00, told at once
    _move_etr(engine, settings, outage, 2, ETR + timedelta(hours=1))
    assert _drain(engine, settings) == 1
    clock.move_to(ETR + timedelta(hours=1, minutes=1))
    assert _drain(engine, settings) == 1
    sent = _after_ack(twilio)
    assert "chua khac phuc xong nhu du kien 13:00." in sent[1], sent


def test_a_subscriber_is_not_told_an_etr_passed_that_their_update_did_not_give(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    subscribe(engine, WATCHER, code="C0000000")
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW, etr=ETR,
                          members=h.customer_ids(engine), start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    assert _drain(engine, settings) == 2  # the house and its subscriber: 12:00
    clock.move_to(NOW + timedelta(minutes=10))  # 10:10: the crew says 10:20
    _move_etr(engine, settings, outage, 2, NOW + timedelta(minutes=20))
    for minutes in (31, 61):  # the updates, then "ETR passed"
        clock.move_to(NOW + timedelta(minutes=minutes))
        _drain(engine, settings)
    heard = twilio.bodies_to(WATCHER)
    assert len(heard) == 2 and "du kien co dien lai chua xac dinh." in heard[1], heard
    assert not any("10:20" in body for body in heard)


def test_a_new_etr_close_to_one_that_passed_is_told(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Told 12:00, then at 12:00 that it passed and a next word is coming: a new ETR of
    12:20 is that word, though it lies within notices.etr_change_min of the 12:00 told."""
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(ETR + timedelta(seconds=1))
    _drain(engine, settings)
    clock.move_to(ETR + timedelta(minutes=5))  # 12:05: the crew says 12:20
    _move_etr(engine, settings, outage, 2, ETR + timedelta(minutes=20))
    clock.move_to(ETR + timedelta(minutes=6))
    _drain(engine, settings)
    sent = _after_ack(twilio)
    assert len(sent) == 2 and "12:00" in sent[0] and "12:20" in sent[1], sent


@pytest.mark.parametrize("moved", [timedelta(minutes=-15), timedelta(minutes=20)])
def test_a_customer_not_told_a_small_move_hears_when_their_own_etr_passes(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
    moved: timedelta,
) -> None:
    """Told 12:00; the ETR moves to 11:45 or 12:20, too little to tell (etr_change_min).
    At 12:00, the time they expect, they hear it passed: not at 11:45 (they expect power
    later) and not only at 12:20."""
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(hours=1))
    _move_etr(engine, settings, outage, 2, ETR + moved)
    assert h.rows(engine, kind="etr_update") == []
    clock.move_to(ETR - timedelta(minutes=1))
    _drain(engine, settings)
    assert _after_ack(twilio) == []
    clock.move_to(ETR + timedelta(minutes=1))
    _drain(engine, settings)
    sent = _after_ack(twilio)
    assert len(sent) == 1 and "chua khac phuc xong nhu du kien 12:00." in sent[0], sent
