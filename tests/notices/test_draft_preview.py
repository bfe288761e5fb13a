"""The preview of a cut not yet created: the same customers, refusals, warnings and notice
counts as creating it would give, and nothing stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, func, select

from notifier.store import outbox
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts
from outages.models import Outage
from outages.notices import draft_preview, report
from outages.registry import preview as area_preview
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import ahead, columns, grid_rows


@pytest.fixture
def grid(add_customers: Callable[[Any], None]) -> None:
    rows = grid_rows(100)
    for i, row in enumerate(rows):
        row.update(email=f"c{i}@example.vn" if i % 3 == 0 else None,
                   language="en" if i % 4 == 0 else "vi",
                   phone=None if i % 5 == 0 else row["phone"],
                   priority="medical" if i == 11 else None)
    add_customers(rows)


@pytest.fixture
def relaxed(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(OUTAGES_PLANNED_MIN_NOTICE="0s", OUTAGES_PLANNED_PRIORITY_MIN_NOTICE="0s")


def area(first: int, last: int, settings: Settings) -> Any:
    return lifecycle.read_area(json.dumps(columns(first, last)), settings)


def test_same_customers_as_area_preview(engine: Engine, settings: Settings, grid: None) -> None:
    shape = area(0, 4, settings)
    with engine.connect() as conn:
        shown = draft_preview.preview(conn, settings, draft_preview.Draft(area=shape))
        same = area_preview.preview_json(shape, area_preview.affected_today(conn, settings,
                                                                            shape))
    assert shown.count == same.count == 50
    assert (shown.by_district, shown.by_feeder) == (same.by_district, same.by_feeder)
    assert shown.priority == 1
    assert [w.code for w in shown.warnings] == ["priority"]


def test_refusals_are_shown_with_their_field(engine: Engine, settings: Settings,
                                             grid: None) -> None:
    start = ahead(days=2)
    draft = draft_preview.Draft(area=area(0, 2, settings), start=start,
                                end=start + timedelta(hours=4))
    with engine.connect() as conn:
        soon = draft_preview.preview(conn, settings, draft)
        urgent = draft_preview.preview(conn, settings, draft_preview.Draft(
            area=draft.area, start=start, end=start - timedelta(hours=1), urgent=True,
            urgent_reason="storm"))
        empty = draft_preview.preview(conn, settings, draft_preview.Draft(
            area=lifecycle.read_area(json.dumps(columns(30, 31)), settings)))
    assert [p.field for p in soon.problems] == ["start"]
    assert "planned.min_notice" in soon.problems[0].message
    earliest = datetime.fromisoformat(soon.earliest_legal_start)
    assert timedelta(0) <= earliest - (utcnow() + settings.planned.min_notice) < timedelta(
        minutes=2)
    assert [p.field for p in urgent.problems] == ["end"]
    assert [(p.field, empty.count) for p in empty.problems] == [("area", 0)]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Outage)).scalar_one() == 0


def test_warnings_and_notice_totals_match_the_created_cut(engine: Engine, relaxed: Settings,
                                                          grid: None) -> None:
    start, end = ahead(hours=3), ahead(hours=7)
    cuts.create(engine, relaxed, area=area(0, 3, relaxed), start=start, end=end,
                reason="first", actor="t", source="cli")
    cuts.create(engine, relaxed, area=area(6, 7, relaxed), start=end + timedelta(days=2),
                end=end + timedelta(days=2, hours=2), reason="later", actor="t", source="cli")
    draft = draft_preview.Draft(area=area(2, 6, relaxed), start=start + timedelta(hours=1),
                                end=end, reason="second")
    with engine.connect() as conn:
        shown = draft_preview.preview(conn, relaxed, draft)
    assert not shown.problems
    made = cuts.create(engine, relaxed, area=draft.area, start=draft.start or start,
                       end=end, reason="second", actor="t", source="cli")
    assert [w.model_dump() for w in shown.warnings] == [w.model_dump()
                                                        for w in made.warnings or []]
    assert {w.code for w in shown.warnings} == {"overlap", "repeat_window"}
    with engine.connect() as conn:
        sent = report.preview(conn, relaxed, outage_id=made.id, expect="planned")
    assert shown.totals == sent.totals
    assert [(m.channel, m.language, m.recipients, m.segments) for m in shown.messages] == [
        (m.channel, m.language, m.recipients, m.segments) for m in sent.messages]
    assert shown.totals.messages > 0


def test_a_cut_drafted_at_night_is_previewed_as_announced_in_the_morning(
        engine: Engine, relaxed: Settings, grid: None) -> None:
    """Drafted at 22:00 for 08:00 the next day, the announcement waits for 07:00: the
    preview words it as customers will read it then ("today"), as the queued notice is."""
    night = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    start = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 08:00 the next day
    draft = draft_preview.Draft(area=area(0, 1, relaxed), start=start,
                                end=start + timedelta(hours=4), reason="bao duong")
    with time_machine.travel(night, tick=False):
        with engine.connect() as conn:
            shown = draft_preview.preview(conn, relaxed, draft)
        made = cuts.create(engine, relaxed, area=draft.area, start=start,
                           end=start + timedelta(hours=4), reason="bao duong", actor="t",
                           source="cli")
    [previewed] = [m.body for m in shown.messages
                   if (m.channel, m.language, m.audience) == ("sms", "vi", "customers")]
    with engine.connect() as conn:
        queued = set(conn.execute(select(outbox.c.body).where(
            outbox.c.outage_id == made.id, outbox.c.kind == "announcement",
            outbox.c.channel == "sms", outbox.c.language == "vi")).scalars())
    assert queued == {previewed}, (queued, previewed)
    assert "hom nay" in previewed, previewed
