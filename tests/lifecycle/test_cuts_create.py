from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from outages.errors import ValidationError
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts
from outages.lifecycle.results import OutageView
from outages.models import AuditEntry, Interruption, Outage, OutageCustomer, Revision
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import ahead, columns, square


def area(geometry: dict[str, Any], settings: Settings) -> Any:
    return lifecycle.read_area(json.dumps(geometry), settings)


def make(engine: Engine, settings: Settings, first: int = 0, last: int = 2,
         **kw: Any) -> OutageView:
    options = {"start": ahead(hours=2), "end": ahead(hours=6), "reason": "line work",
               "actor": "tester", "source": "cli", **kw}
    return cuts.create(engine, settings, area=area(columns(first, last), settings), **options)


def counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t.__table__)).scalar_one()
                     for t in (Outage, OutageCustomer, Interruption, Revision, AuditEntry))


def test_create_stores_set_and_placeholders(engine: Engine, relaxed: Settings, grid: Any,
                                            published: list[Any]) -> None:
    view = make(engine, relaxed)
    assert (view.affected, view.status) == (30, "scheduled")
    assert view.by_district == {"Dong Da": 20, "Ba Dinh": 10}
    with engine.connect() as conn:
        open_rows = conn.execute(select(func.count()).select_from(Interruption.__table__)
                                 .where(Interruption.__table__.c.start_at.is_(None))).scalar()
    assert counts(engine) == (1, 30, 30, 1, 1)
    assert open_rows == 30
    assert [(e.kind, e.revision) for e in published] == [("cut_created", 1)]


def test_feeder_restricts_the_set(engine: Engine, relaxed: Settings, add_customers: Any) -> None:
    from tests.lifecycle.conftest import grid_rows
    add_customers(grid_rows(10, prefix="A", feeder="F1"))
    add_customers([{**r, "lat": r["lat"] + 0.0005} for r in grid_rows(10, prefix="B",
                                                                      feeder="F2")])
    geometry = square(105.7995, 20.9995, 105.8095, 21.0010)
    view = cuts.create(engine, relaxed, area=area(geometry, relaxed), start=ahead(hours=2),
                       end=ahead(hours=3), reason="x", feeders=["F2"], actor="t", source="cli")
    assert view.affected == 10
    assert view.by_feeder == {"F2": 10}


@pytest.mark.parametrize(("start", "end", "field", "words"), [
    ({"hours": 5}, {"hours": 4}, "end", "not after start"),
    ({"hours": -1}, {"hours": 4}, "start", "in the past"),
    ({"hours": 1}, {"hours": 26}, "end", "longer than the maximum 1d"),
])
def test_bad_windows_are_refused(engine: Engine, relaxed: Settings, grid: Any, start: Any,
                                 end: Any, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make(engine, relaxed, start=ahead(**start), end=ahead(**end))
    assert caught.value.field == field
    assert words in caught.value.message
    assert counts(engine) == (0, 0, 0, 0, 0)


def test_empty_area_refused_unless_allowed(engine: Engine, relaxed: Settings, grid: Any) -> None:
    empty = square(105.9, 21.05, 105.91, 21.06)
    with pytest.raises(ValidationError, match="matches no customer"):
        cuts.create(engine, relaxed, area=area(empty, relaxed), start=ahead(hours=1),
                    end=ahead(hours=2), reason="x", actor="t", source="cli")
    view = cuts.create(engine, relaxed, area=area(empty, relaxed), start=ahead(hours=1),
                       end=ahead(hours=2), reason="x", actor="t", source="cli",
                       allow_empty=True)
    assert view.affected == 0


def test_bad_area_is_refused_by_the_cli(cli: Any, grid: Any, area_file: Any) -> None:
    open_ring = {"type": "Polygon", "coordinates": [[[105.8, 21.0], [105.81, 21.0],
                                                      [105.81, 21.01], [105.8, 21.01]]]}
    refused = cli("cuts", "create", "--area", area_file(open_ring), "--start",
                  "2030-01-10 08:00", "--end", "2030-01-10 09:00", "--reason", "x")
    assert refused.exit_code == 2
    assert "ring is not closed" in refused.stderr


def test_notice_rule_names_earliest_start(engine: Engine, settings: Settings,
                                          grid: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        make(engine, settings, start=ahead(days=4), end=ahead(days=4, hours=2))
    expected = lifecycle.ceil_minute(ahead(days=5, seconds=59)).astimezone(settings.tz)
    assert "earliest allowed start is" in caught.value.message
    assert expected.strftime("%Y-%m-%d") in caught.value.message
    assert counts(engine)[0] == 0
    ok = make(engine, settings, start=ahead(days=5, minutes=2), end=ahead(days=5, hours=2))
    assert ok.urgent is False


def test_urgent_override_is_stored_and_listed(engine: Engine, settings: Settings, grid: Any,
                                              cli: Any) -> None:
    with pytest.raises(ValidationError, match="needs an urgent reason") as missing:
        make(engine, settings, urgent=True)
    assert missing.value.field == "urgent_reason"
    view = make(engine, settings, urgent=True, urgent_reason="transformer smoking")
    assert (view.urgent, view.urgent_reason) == (True, "transformer smoking")
    listed = json.loads(cli("cuts", "list", "--json").stdout)
    assert listed[0]["urgent"] is True
    assert "URGENT" in cli("cuts", "list").stdout
    assert "transformer smoking" in cli("cuts", "show", str(view.id)).stdout


def test_conflicts_warn_with_counts_and_ids(engine: Engine, relaxed: Settings,
                                            grid: Any) -> None:
    first = make(engine, relaxed, 0, 4)
    later = make(engine, relaxed, 3, 6, start=ahead(days=3), end=ahead(days=3, hours=2))
    assert [w.as_json() for w in later.warnings] == [{
        "code": "repeat_window", "count": 20, "cut_ids": [first.id],
        "message": f"20 affected customers already have another cut within 7d: #{first.id}"}]
    overlapping = make(engine, relaxed, 4, 4, start=ahead(hours=3), end=ahead(hours=8))
    codes = {w.code: w for w in overlapping.warnings}
    assert codes["overlap"].cut_ids == [first.id]
    assert codes["overlap"].count == 10
    assert codes["repeat_window"].cut_ids == [later.id]
    far = make(engine, relaxed, 0, 1, start=ahead(days=20), end=ahead(days=20, hours=1))
    assert far.warnings == []


def test_a_completed_cut_is_a_repeat_not_an_overlap(engine: Engine, relaxed: Settings,
                                                     grid: Any) -> None:
    done = make(engine, relaxed, 0, 4)
    act = {"actor": "tester", "source": "cli"}
    cuts.start(engine, relaxed, cut_id=done.id, at=None, **act)
    cuts.restore(engine, relaxed, cut_id=done.id, at=None, **act)
    # Power came back early; this cut falls in what was the first one's planned window.
    again = make(engine, relaxed, 0, 1, start=ahead(hours=3), end=ahead(hours=5))
    assert [(w.code, w.cut_ids) for w in again.warnings] == [("repeat_window", [done.id])]


def test_cli_create_json_and_text(cli: Any, grid: Any, area_file: Any) -> None:
    path = area_file(columns(0, 0))
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    result = cli("cuts", "create", "--area", path, "--start", f"{day} 08:00", "--end",
                 f"{day} 16:30", "--reason", "maintenance", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["affected"], data["start"], data["end"]) == (
        10, f"{day}T08:00:00+07:00", f"{day}T16:30:00+07:00")
    assert data["earliest_legal_start"].endswith("+07:00")
    text = cli("cuts", "create", "--area", path, "--start", f"{day} 08:00", "--end",
               f"{day} 09:00", "--reason", "again")
    assert "Cut #2 scheduled" in text.stdout
    assert "overlaps" in text.stderr


def test_failure_mid_create_leaves_nothing(engine: Engine, relaxed: Settings, grid: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("crash after the set was written")

    monkeypatch.setattr(cuts.cut_rules, "conflicts", boom)
    with pytest.raises(RuntimeError):
        make(engine, relaxed)
    assert counts(engine) == (0, 0, 0, 0, 0)


def test_unnamed_area_is_named_after_its_districts(engine: Engine, relaxed: Settings,
                                                   grid: Any, area_file: Any) -> None:
    """Customers read the area name in their notices: a bare polygon gets its districts,
    largest first, never a file name."""
    area = lifecycle.read_area(area_file(columns(0, 2), name="tmp-upload-1"), relaxed)
    cut = cuts.create(engine, relaxed, area=area, start=ahead(hours=1), end=ahead(hours=2),
                      reason="maintenance", actor="t", source="cli")
    with engine.connect() as conn:
        name = conn.execute(select(Outage.area_name).where(Outage.id == cut.id)).scalar_one()
    assert name == "Dong Da, Ba Dinh"  # columns 0 and 2 are Dong Da, column 1 Ba Dinh


def test_named_feature_keeps_its_name(engine: Engine, relaxed: Settings, grid: Any,
                                      area_file: Any) -> None:
    feature = {"type": "Feature", "properties": {"name": "Ngõ 12 Láng Hạ"},
               "geometry": columns(0, 2)}
    area = lifecycle.read_area(area_file(feature), relaxed)
    cut = cuts.create(engine, relaxed, area=area, start=ahead(hours=1), end=ahead(hours=2),
                      reason="maintenance", actor="t", source="cli")
    with engine.connect() as conn:
        name = conn.execute(select(Outage.area_name).where(Outage.id == cut.id)).scalar_one()
    assert name == "Ngõ 12 Láng Hạ"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_cli_refuses_dates_out_of_range(cli: Any, grid: Any, area_file: Any, day: str) -> None:
    path = area_file(columns(0, 0))
    created = cli("cuts", "create", "--area", path, "--start", f"{day} 20:00", "--end",
                  f"{day} 22:00", "--reason", "x")
    assert created.exit_code == 2 and "--start" in created.stderr
    assert "between 1970-01-01 and 2100-12-31" in created.stderr
    listed = cli("cuts", "list", "--from", day)
    assert listed.exit_code == 2 and "--from" in listed.stderr
    report = cli("report", "reliability", "--from", "2026-01-01", "--to", day)
    assert report.exit_code == 2 and "--to" in report.stderr


def test_cli_refuses_a_cut_beyond_max_ahead_and_control_characters(
        cli: Any, grid: Any, area_file: Any) -> None:
    path = area_file(columns(0, 0))
    day = (utcnow() + timedelta(days=400)).date().isoformat()
    late = cli("cuts", "create", "--area", path, "--start", f"{day} 08:00", "--end",
               f"{day} 09:00", "--reason", "x")
    assert late.exit_code == 2 and "planned.max_ahead" in late.stderr
    soon = (utcnow() + timedelta(days=30)).date().isoformat()
    bell = cli("cuts", "create", "--area", path, "--start", f"{soon} 08:00", "--end",
               f"{soon} 09:00", "--reason", "ring\x07")
    assert bell.exit_code == 2 and "--reason" in bell.stderr and "U+0007" in bell.stderr
