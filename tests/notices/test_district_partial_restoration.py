"""A district subscriber follows the district, not one house: a restoration step that gives
power back to some of the district's houses while others are still out does not tell them
power is back; the step that ends it there does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Interruption
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import NOW, WATCHER, _to, _town, subscribe


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _restore(conn: Any, settings: Settings, outage: int, revision: int,
             step: list[int]) -> None:
    """A restoration step as the lifecycle writes it: interruptions end, then the event."""
    i = Interruption.__table__.c
    conn.execute(update(Interruption.__table__).where(
        i.outage_id == outage, i.customer_id.in_(step)).values(end_at=NOW))
    h.add_revision(conn, outage, revision, "restored", at=NOW)
    publish(conn, settings, OutageEvent("restored", outage, revision, NOW,
                                        customer_ids=tuple(step)))


def test_a_district_subscriber_hears_power_is_back_when_the_district_has_it(
        engine: Engine, settings: Settings, add_customers: Any) -> None:
    _town(add_customers)
    ids = h.customer_ids(engine)[:6]  # the six houses of Dong Da
    subscribe(engine, WATCHER, district="Dong Da")
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          members=ids, etr=NOW + timedelta(hours=2))
    with engine.begin() as conn:
        conn.execute(Interruption.__table__.insert(), [
            {"outage_id": outage, "customer_id": c, "planned": False, "start_at": NOW}
            for c in ids])
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
        _restore(conn, settings, outage, 2, ids[:3])
    # Three houses are still out: "power is back" is not true of Dong Da.
    assert "restored" not in [r.kind for r in _to(engine, WATCHER)]
    with engine.begin() as conn:
        _restore(conn, settings, outage, 3, ids[3:])
    assert [r.kind for r in _to(engine, WATCHER) if r.kind == "restored"] == ["restored"]
