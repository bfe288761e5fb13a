"""The previews of a cut count what its subscribers will be sent and what that costs, as the
planner then queues it: one per contact, not a customer's own address twice, each SMS with
its own footer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts
from outages.notices import draft_preview, report
from outages.registry.subscriptions import Status
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import NOW, WATCHER, WATCHER_2, _cut, _town, subscribe


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


LONG_CODE = "DD-" + "7" * 40  # its footer takes the English SMS to another segment


def _houses(add_customers: Any) -> None:
    _town(add_customers)
    add_customers([{"code": LONG_CODE, "lon": 105.8, "lat": 21.0, "district": "Dong Da"}])


def _subscribers(engine: Engine) -> None:
    subscribe(engine, WATCHER, code="C0000002")
    subscribe(engine, WATCHER, district="Dong Da")  # the same phone twice: one message
    subscribe(engine, "+84900000003", code="C0000003")  # the account's own number
    subscribe(engine, "son@example.test", code="c0000002", language="en")
    subscribe(engine, WATCHER_2, district="Tay Ho")  # one house only: below public.min_count
    subscribe(engine, "+84987000004", code="C0000001", status=Status.PENDING)
    subscribe(engine, "+84987000006", code=LONG_CODE, language="en")
    subscribe(engine, "+84987000007", district="Dong Da", language="en")


def _queued(engine: Engine, outage: int) -> tuple[int, int, float]:
    rows = [r for r in h.rows(engine, outage_id=outage, kind="announcement")]
    return (len(rows), sum(r.segments or 0 for r in rows if r.channel == "sms"),
            sum(r.cost or 0 for r in rows))


def _totals(preview: Any) -> tuple[int, int, float]:
    return preview.totals.messages, preview.totals.segments, preview.totals.cost


def test_the_preview_of_a_cut_counts_its_subscribers_as_queued(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    _houses(add_customers)
    _subscribers(engine)
    ids = h.customer_ids(engine)
    outage = _cut(engine, settings, [*ids[:7], ids[8]])
    with engine.connect() as conn:
        shown = report.preview(conn, settings, outage_id=outage, expect="planned")
    messages, segments, cost = _queued(engine, outage)
    assert _totals(shown) == (messages, segments, pytest.approx(cost))
    lines = {(m.channel, m.language): m for m in shown.messages if m.audience == "subscribers"}
    assert {key: m.recipients for key, m in lines.items()} == {
        ("sms", "vi"): 1, ("sms", "en"): 2, ("email", "en"): 1}
    assert lines[("sms", "vi")].body.endswith("(Theo doi <code>. Soan HUY <code> de ngung.)")
    customers_only = [m for m in shown.messages if m.audience == "customers"]
    assert sum(m.recipients for m in customers_only) == 7  # the long code has no phone
    long_sms = lines[("sms", "en")]
    assert long_sms.segments > next(m.segments for m in customers_only
                                    if (m.channel, m.language) == ("sms", "en"))


def test_a_drawn_cut_is_priced_with_its_subscribers_as_creating_it_queues(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    _houses(add_customers)
    _subscribers(engine)
    square = {"type": "Polygon", "coordinates": [[[105.79, 20.99], [105.81, 20.99],
                                                  [105.81, 21.01], [105.79, 21.01],
                                                  [105.79, 20.99]]]}
    area = lifecycle.read_area(json.dumps(square), settings)
    start = NOW + timedelta(days=6)
    draft = draft_preview.Draft(area=area, start=start, end=start + timedelta(hours=8),
                                reason="bảo dưỡng")
    with engine.connect() as conn:
        shown = draft_preview.preview(conn, settings, draft)
    made = cuts.create(engine, settings, area=area, start=start, end=start + timedelta(hours=8),
                       reason="bảo dưỡng", actor="t", source="cli")
    messages, segments, cost = _queued(engine, made.id)
    assert shown.count == 9
    assert _totals(shown) == (messages, segments, pytest.approx(cost))
    assert sum(m.recipients for m in shown.messages if m.audience == "subscribers") == 4


def test_without_subscribers_the_preview_lists_customers_only(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    _town(add_customers)
    outage = _cut(engine, settings, h.customer_ids(engine)[:7])
    with engine.connect() as conn:
        shown = report.preview(conn, settings, outage_id=outage, expect="planned")
    assert {m.audience for m in shown.messages} == {"customers"}
    assert _totals(shown)[0] == _queued(engine, outage)[0] == 7
