"""A phone that is a customer's own contact and also follows another house of the same cut
knows of the cut through its own notice: a move reaches it once, as "changed"."""

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
from outages.models import Customer
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import subscribe

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
START = NOW + timedelta(days=6)
ACT: dict[str, Any] = {"actor": "dispatcher", "source": "cli"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_phone_of_a_customer_following_a_neighbour_hears_a_move_once(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(3, district="Dong Da"))
    ids = h.customer_ids(engine)
    phone = "+84900000000"  # customer C0000000's own phone
    with engine.connect() as conn:
        assert conn.execute(Customer.__table__.select().where(Customer.id == ids[0])).one() \
            .phone == phone
    subscribe(engine, phone, code="C0000001")  # follows the parents' house too
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.kind == "announcement")
                     .values(status="sent", sent_at=NOW))
    assert [r.kind for r in h.rows(engine, recipient=phone, kind="announcement")] \
        == ["announcement"]
    later = START + timedelta(days=1)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        cuts.reschedule(engine, settings, cut_id=outage, start=later,
                        end=later + timedelta(hours=8), **ACT)
    new = sorted((r.kind, r.subscription_id is not None)
                 for r in h.rows(engine, recipient=phone, revision=2)
                 if r.kind != "reminder" and r.status == "pending")
    assert new == [("changed", False)], new
