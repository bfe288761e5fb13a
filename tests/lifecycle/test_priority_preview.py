"""The new-cut preview refuses what creating the cut refuses: priority customers' notice
counted from when their announcement goes out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cuts
from outages.models import Customer
from outages.notices import draft_preview
from outages.settings import Settings
from tests.lifecycle.conftest import columns

ACT: dict[str, Any] = {"actor": "t", "source": "cli", "reason": "line work"}


def _area(settings: Settings) -> Any:
    return lc.read_area(json.dumps(columns(0, 0)), settings)


def test_preview_and_create_agree_on_priority_notice_in_the_evening(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """At 22:00 Hanoi a cut over a life-support customer starting exactly 7 days later is
    refused by create (their announcement waits for 07:00, so only 6d 15h of notice): the
    console/API preview of the same draft says so, with the same words."""
    with engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(Customer.code == "C000")
                     .values(priority="life_support"))
    evening = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    with time_machine.travel(evening, tick=False):
        start = lc.ceil_minute(evening + settings.planned.priority_min_notice)
        end = start + timedelta(hours=4)
        with engine.connect() as conn:
            shown = draft_preview.preview(conn, settings, draft_preview.Draft(
                area=_area(settings), start=start, end=end))
        with pytest.raises(ValidationError) as refused:
            cuts.create(engine, settings, area=_area(settings), start=start, end=end, **ACT)
    assert [p.field for p in shown.problems] == ["start"], shown.problems
    assert shown.problems[0].message == refused.value.message
    assert "after quiet hours" in refused.value.message

