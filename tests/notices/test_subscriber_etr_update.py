"""Subscribers of a house (or of its district) still out hear a new ETR, as its customers
do: they were told the old one, and "ETR passed" would otherwise name a time they never
heard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Outage
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import NOW, WATCHER, WATCHER_2, _to, _town, subscribe


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.parametrize("late", [False, True], ids=["at_once", "after_the_interval"])
def test_subscribers_hear_a_new_etr(engine: Engine, settings: Settings, add_customers: Any,
                                    late: bool) -> None:
    _town(add_customers)
    ids = h.customer_ids(engine)[:6]  # the six houses of Dong Da
    subscribe(engine, WATCHER, code="C0000002")
    subscribe(engine, WATCHER_2, district="Dong Da")
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          members=ids, etr=NOW + timedelta(hours=2))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    if not late:  # the acknowledgement went long ago
        h.mark_sent(engine, kind="fault_ack", customer_ids=ids, at=NOW - timedelta(hours=1))
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.id == outage)
                     .values(etr=NOW + timedelta(hours=4)))
        h.add_revision(conn, outage, 2, "etr", at=NOW)
        publish(conn, settings, OutageEvent("etr_changed", outage, 2, NOW))
    assert len(h.rows(engine, kind="etr_update", customer_id=ids[2])) == 1
    for watcher in (WATCHER, WATCHER_2):
        assert [r.kind for r in _to(engine, watcher) if r.kind == "etr_update"] \
            == ["etr_update"], watcher
