"""The preview of a cut leaves out a subscriber whose phone is a member's own Zalo number,
as the planner does (the phone has the notice already, by Zalo)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from outages.models import Customer
from outages.notices import report
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import NOW, _cut, _town, subscribe


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def test_preview_leaves_out_a_subscriber_whose_phone_gets_the_notice_by_zalo(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    _town(add_customers)
    ids = h.customer_ids(engine)
    with engine.begin() as conn:  # C0000003 is told by Zalo, at their phone
        conn.execute(update(Customer.__table__).where(Customer.id == ids[3])
                     .values(channels="zalo,sms"))
    subscribe(engine, "+84900000003", code="C0000002")  # that phone follows the neighbours
    outage = _cut(engine, settings, ids[:6])
    queued = [r for r in h.rows(engine, outage_id=outage, kind="announcement")]
    assert [r.channel for r in queued if r.recipient == "+84900000003"] == ["zalo"]
    with engine.connect() as conn:
        shown = report.preview(conn, settings, outage_id=outage, expect="planned")
    subscribers = sum(m.recipients for m in shown.messages if m.audience == "subscribers")
    assert subscribers == len([r for r in queued if r.subscription_id is not None])
    assert shown.totals.messages == len(queued)
