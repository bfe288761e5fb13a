"""A cancellation worded again at send time names the window the customer was told, end
included: told 7 Dec 10:00-14:00, the end moved to 16:00 and the cut cancelled before the
"changed" went out, it says 14:00 however it is worded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.lifecycle import core as lc
from outages.lifecycle import cuts
from outages.notices import recipients
from outages.settings import Settings
from tests.lifecycle.conftest import columns, ids_of
from tests.notices import helpers as h

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)  # 7 Dec 10:00 local
ACT: dict[str, Any] = {"actor": "dispatcher", "source": "cli"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_reworded_cancellation_names_the_end_the_customer_was_told(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    area = lc.read_area(json.dumps(columns(0, 0)), settings)
    cut = cuts.create(engine, settings, area=area, start=START, end=START + timedelta(hours=4),
                      reason="line work", **ACT)
    col0 = sorted(ids_of(engine, [f"C{r * 10:03d}" for r in range(10)]))
    h.mark_sent(engine, kind="announcement", customer_ids=col0, at=NOW)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=START,
                    end=START + timedelta(hours=6), **ACT)
    cuts.cancel(engine, settings, cut_id=cut.id, reason="work not needed", **ACT)
    [row] = [r for r in h.rows(engine, kind="cancelled", channel="sms")
             if r.customer_id == col0[0]]
    assert "14:00" in row.body and "16:00" not in row.body, row.body  # as queued: right
    with time_machine.travel(NOW + timedelta(days=1), tick=False), engine.begin() as conn:
        verdict = recipients.recheck(conn, settings, [row])
    body = verdict.changes[row.id]["body"]
    assert "14:00" in body and "16:00" not in body, body
