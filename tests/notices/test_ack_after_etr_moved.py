"""An acknowledgement still to send when the ETR moves (a retry) gives the ETR it has now."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Outage
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def _drain(engine: Engine, settings: Settings) -> int:
    now = datetime.now(UTC)
    dispatcher = delivery.dispatcher(engine, settings, clock=lambda: now, concurrency=2)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


DAY = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
DAY_ETR = DAY + timedelta(hours=2)  # 12:00 in Hanoi
DAY_NEW_ETR = DAY + timedelta(hours=4)  # 14:00 in Hanoi


def test_an_acknowledgement_retried_after_the_etr_moved_does_not_state_the_old_etr(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Default urgent kinds; the acknowledgement's first try meets a transient error."""
    clock.move_to(DAY)
    settings = make_settings(**{**twilio_env, "OUTAGES_RETRY_BASE_DELAY": "10m"})
    add_customers(h.customers(1))
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=DAY,
                          etr=DAY_ETR, members=h.customer_ids(engine), start=None)
    twilio.fail("+84900000000", 503, 0)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, DAY))
    _drain(engine, settings)
    assert twilio.bodies_to("+84900000000") == []  # to be tried again
    moved = DAY + timedelta(minutes=5)
    clock.move_to(moved)
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.id == outage)
                     .values(etr=DAY_NEW_ETR))
        h.add_revision(conn, outage, 2, "etr", at=moved)
        publish(conn, settings, OutageEvent("etr_changed", outage, 2, moved))
    _drain(engine, settings)
    clock.move_to(DAY + timedelta(hours=1))
    _drain(engine, settings)
    bodies = twilio.bodies_to("+84900000000")
    assert any("14:00" in body for body in bodies), bodies
    # 12:00 stopped being the ETR at 10:05: no message after that may announce it.
    assert not any("12:00" in body for body in bodies), bodies
