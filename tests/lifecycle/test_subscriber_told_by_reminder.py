"""A subscriber whose announcement failed but whose reminder reached them knows of the cut
(a reminder states it): when it is cancelled, they hear so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from notifier.store import outbox
from outages.lifecycle import cuts
from outages.lifecycle.events import OutageEvent, publish
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import subscribe

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
START = NOW + timedelta(days=6)
ACT: dict[str, Any] = {"actor": "dispatcher", "source": "cli"}
WATCHER = "+84987000001"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_subscriber_told_by_a_reminder_hears_the_cancellation(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(3, district="Dong Da"))
    ids = h.customer_ids(engine)
    subscribe(engine, WATCHER, code="C0000002")
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    mine = h.rows(engine, recipient=WATCHER)
    assert {r.kind for r in mine} >= {"announcement", "reminder"}, mine
    first_reminder = min(r.id for r in mine if r.kind == "reminder")
    with engine.begin() as conn:
        # The watcher's announcement failed; everything else (and their first reminder) went.
        conn.execute(update(outbox).where(outbox.c.kind == "announcement")
                     .values(status="sent", sent_at=NOW))
        conn.execute(update(outbox).where(outbox.c.kind == "announcement",
                                          outbox.c.recipient == WATCHER)
                     .values(status="failed", sent_at=None))
        conn.execute(update(outbox).where(outbox.c.id == first_reminder)
                     .values(status="sent", sent_at=NOW + timedelta(days=3)))
    with time_machine.travel(NOW + timedelta(days=3, hours=1), tick=False):
        cuts.cancel(engine, settings, cut_id=outage, reason="thời tiết", **ACT)
    to_watcher = {(r.kind, r.status) for r in h.rows(engine, recipient=WATCHER)}
    assert ("cancelled", "pending") in to_watcher, to_watcher
