"""A subscriber's SMS is counted as GSM 03.38 splits it (an escape pair or an emoji never
across two parts), as the preview counted it and as a row worded again is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from notifier import gsm
from outages.lifecycle.events import OutageEvent, publish
from outages.notices import report
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_subscriptions import NOW, WATCHER, _frozen, _town, subscribe  # noqa: F401

# The customers' text puts the reason at septet 85 (84 before it); the subscriber's footer
# follows. This reason puts '[' on septets 153-154 and the whole message at 306 septets:
# two parts by ceil(306/153), three by GSM 03.38 (the escape pair cannot be split).
HEAD = ("bao duong, thay thiet bi dong cat va sua chua duong day trung the lo " * 2)[:68]
TAIL = "471 E1.5] tai tram Lang Ha 1, Lang Ha 2 va Lang Ha 3; dong dien ngay khi xong"
REASON = HEAD + "[" + TAIL.ljust(83 - 1, ".")  # ']' takes two septets


def test_a_subscribers_sms_is_counted_as_gsm_splits_it_and_as_the_preview_said(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    _town(add_customers)
    ids = h.customer_ids(engine)
    subscribe(engine, WATCHER, code="C0000002")
    start = NOW + timedelta(days=6)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=8),
                          members=ids[:7], reason=REASON)
    with engine.connect() as conn:
        shown = report.preview(conn, settings, outage_id=outage, expect="planned")
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    [row] = [r for r in h.rows(engine, recipient=WATCHER) if r.kind == "announcement"]
    measured = gsm.measure(row.body)
    assert measured.units == 306  # the set-up: the boundary case
    [line] = [m for m in shown.messages if m.audience == "subscribers" and m.channel == "sms"]
    assert line.segments == measured.segments == 3  # preview and GSM 03.38 agree
    assert row.segments == measured.segments, (row.segments, measured.segments)
    assert row.cost == pytest.approx(measured.segments * settings.notices.sms_cost_per_segment)
