"""Local time at the edges: naive input is local, offsets are honoured, DST is respected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.errors import ValidationError
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts
from outages.settings import Settings
from tests.lifecycle.conftest import columns
from tests.lifecycle.test_cuts_create import area

ACT: dict[str, Any] = {"actor": "t", "source": "cli", "reason": "x"}


@time_machine.travel(datetime(2026, 10, 10, 12, 0, tzinfo=UTC), tick=False)
def test_naive_is_local_and_offset_is_kept(engine: Engine, settings: Settings, grid: Any) -> None:
    naive = lifecycle.parse_time("2026-10-20 08:00", settings, field="--start")
    offset = lifecycle.parse_time("2026-10-20T08:00+00:00", settings, field="--start")
    assert naive == datetime(2026, 10, 20, 1, 0, tzinfo=UTC)
    assert offset == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    view = cuts.create(engine, settings, area=area(columns(0, 0), settings), start=offset,
                       end=lifecycle.parse_time("2026-10-20 18:00", settings, field="--end"),
                       **ACT)
    assert (view.start, view.end) == ("2026-10-20T15:00:00+07:00",
                                            "2026-10-20T18:00:00+07:00")


@time_machine.travel(datetime(2026, 10, 10, 12, 0, tzinfo=UTC), tick=False)
def test_cut_across_midnight(cli: Any, grid: Any, area_file: Any) -> None:
    result = cli("cuts", "create", "--area", area_file(columns(0, 1)), "--start",
                 "2026-10-20 22:00", "--end", "2026-10-21 04:00", "--reason", "night work",
                 "--json")
    data = json.loads(result.stdout)
    assert (data["start"], data["end"]) == ("2026-10-20T22:00:00+07:00",
                                            "2026-10-21T04:00:00+07:00")
    on_20 = json.loads(cli("cuts", "list", "--from", "2026-10-20", "--to", "2026-10-20",
                           "--json").stdout)
    on_21 = json.loads(cli("cuts", "list", "--from", "2026-10-21", "--json").stdout)
    assert [c["id"] for c in on_20] == [data["id"]]
    assert on_21 == []


@time_machine.travel(datetime(2026, 10, 10, 12, 0, tzinfo=UTC), tick=False)
def test_berlin_cut_over_the_october_change(engine: Engine, make_settings: Any,
                                            grid: Any) -> None:
    berlin = make_settings(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    start = lifecycle.parse_time("2026-10-25 01:00", berlin, field="--start")
    end = lifecycle.parse_time("2026-10-25 05:00", berlin, field="--end")
    assert (end - start).total_seconds() == 5 * 3600  # the night has 25 hours
    view = cuts.create(engine, berlin, area=area(columns(0, 0), berlin), start=start, end=end,
                       **ACT)
    assert (view.start, view.end) == ("2026-10-25T01:00:00+02:00",
                                            "2026-10-25T05:00:00+01:00")
    with pytest.raises(ValidationError, match="happens twice"):
        lifecycle.parse_time("2026-10-25 02:30", berlin, field="--start")
    explicit = lifecycle.parse_time("2026-10-25T02:30+01:00", berlin, field="--start")
    assert explicit == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    with pytest.raises(ValidationError, match="does not exist"):
        lifecycle.parse_time("2026-03-29 02:30", berlin, field="--start")


@time_machine.travel(datetime(2026, 10, 10, 12, 0, tzinfo=UTC), tick=False)
def test_max_duration_counts_real_hours_over_dst(engine: Engine, make_settings: Any,
                                                 grid: Any) -> None:
    berlin = make_settings(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    start = lifecycle.parse_time("2026-10-24 12:00", berlin, field="--start")
    end = lifecycle.parse_time("2026-10-25 12:00", berlin, field="--end")  # 25 real hours
    with pytest.raises(ValidationError, match="1d1h"):
        cuts.create(engine, berlin, area=area(columns(0, 0), berlin), start=start, end=end,
                    **ACT)


@time_machine.travel(datetime(2026, 10, 10, 12, 0, tzinfo=UTC), tick=False)
def test_earliest_start_is_shown_in_berlin_time(engine: Engine, make_settings: Any,
                                                grid: Any) -> None:
    berlin = make_settings(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    start = lifecycle.parse_time("2026-10-12 08:00", berlin, field="--start")
    with pytest.raises(ValidationError) as caught:
        cuts.create(engine, berlin, area=area(columns(0, 0), berlin), start=start,
                    end=lifecycle.parse_time("2026-10-12 10:00", berlin, field="--end"), **ACT)
    assert "earliest allowed start is 2026-10-15 14:00 +02" in caught.value.message


def test_naive_datetimes_are_refused_by_the_domain(engine: Engine, relaxed: Settings,
                                                   grid: Any) -> None:
    with pytest.raises(ValidationError, match="without a zone"):
        cuts.create(engine, relaxed, area=area(columns(0, 0), relaxed),
                    start=datetime(2030, 1, 1, 8, 0),  # noqa: DTZ001 - the point of the test
                    end=datetime(2030, 1, 1, 9, 0), **ACT)  # noqa: DTZ001
