"""Durations, local/UTC conversion, and DST gaps and folds refused (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outages import timeutil
from outages.cli.lifecycle.render import short

BERLIN = timeutil.zone("Europe/Berlin")
HANOI = timeutil.zone("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5d", timedelta(days=5)), ("2h30m", timedelta(hours=2, minutes=30)),
     ("45s", timedelta(seconds=45)), ("1.5h", timedelta(minutes=90)),
     ("P5D", timedelta(days=5)), ("PT2H30M", timedelta(hours=2, minutes=30)),
     ("P1W", timedelta(weeks=1)), ("0s", timedelta(0))],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert timeutil.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "five days", "P", "PT", "5x", "-5d"])
def test_bad_duration_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match="write it as 5d, 2h, 30m"):
        timeutil.parse_duration(text)


def test_format_duration_round_trips() -> None:
    for value in (timedelta(days=1, hours=2, minutes=3, seconds=4), timedelta(minutes=90)):
        assert timeutil.parse_duration(timeutil.format_duration(value)) == value
    assert timeutil.format_duration(timedelta(0)) == "0s"


def test_naive_input_is_local_and_offset_input_is_kept() -> None:
    assert timeutil.parse_datetime("2026-12-07 08:00", HANOI) == datetime(2026, 12, 7, 1, 0,
                                                                          tzinfo=UTC)
    assert timeutil.parse_datetime("2026-12-07T08:00+01:00", HANOI) == datetime(
        2026, 12, 7, 7, 0, tzinfo=UTC)
    assert timeutil.parse_datetime("2026-12-07T08:00Z", HANOI).hour == 8
    summer = timeutil.parse_datetime("2026-07-01 12:00", BERLIN)
    winter = timeutil.parse_datetime("2026-01-01 12:00", BERLIN)
    assert (summer.hour, winter.hour) == (10, 11)


def test_dst_gap_and_fold_are_refused() -> None:
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        timeutil.parse_datetime("2026-03-29 02:30", BERLIN)
    with pytest.raises(ValueError, match="happens twice in Europe/Berlin"):
        timeutil.parse_datetime("2026-10-25 02:30", BERLIN)
    explicit = timeutil.parse_datetime("2026-10-25 02:30+01:00", BERLIN)
    assert explicit == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_bad_time_and_date_messages() -> None:
    with pytest.raises(ValueError, match="use ISO 8601"):
        timeutil.parse_datetime("tomorrow", HANOI)
    with pytest.raises(ValueError, match="use YYYY-MM-DD"):
        timeutil.parse_date("07/12/2026")


def test_local_days_are_half_open_utc_intervals_across_dst() -> None:
    start, end = timeutil.local_day_bounds(date(2026, 3, 29), date(2026, 3, 29), BERLIN)
    assert end - start == timedelta(hours=23)  # the spring-forward day is short
    start, end = timeutil.local_day_bounds(date(2026, 12, 7), date(2026, 12, 8), HANOI)
    assert (start, end - start) == (datetime(2026, 12, 6, 17, tzinfo=UTC), timedelta(days=2))


def test_showing_local_times_and_refusing_naive_ones() -> None:
    moment = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert timeutil.show_local(moment, HANOI) == "2026-12-07 08:00 +07"
    assert timeutil.iso_local(moment, HANOI) == "2026-12-07T08:00:00+07:00"
    with pytest.raises(ValueError, match="naive"):
        timeutil.to_local(datetime(2026, 12, 7, 1, 0), HANOI)  # noqa: DTZ001


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1969-12-31", "2101-01-01"])
def test_dates_outside_1970_to_2100_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="between 1970-01-01 and 2100-12-31"):
        timeutil.parse_date(text)
    for moment in (f"{text} 20:00", f"{text}T00:00+07:00", f"{text}T23:59Z"):
        with pytest.raises(ValueError, match="between 1970-01-01 and 2100-12-31"):
            timeutil.parse_datetime(moment, HANOI)


def test_range_edges_are_accepted() -> None:
    assert timeutil.parse_date("1970-01-01") == date(1970, 1, 1)
    assert timeutil.parse_date("2100-12-31") == date(2100, 12, 31)
    assert timeutil.parse_datetime("2100-12-31 23:59", HANOI).year == 2100


@pytest.mark.parametrize(("zone", "shown"), [
    ("Asia/Ho_Chi_Minh", "2026-12-01 10:00 +07"), ("Asia/Kolkata", "2026-12-01 08:30 +05:30"),
    ("Asia/Kathmandu", "2026-12-01 08:45 +05:45"), ("America/St_Johns", "2026-11-30 23:30 -03:30"),
])
def test_tables_show_an_offset_with_its_minutes(zone: str, shown: str) -> None:
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert timeutil.show_local(at, ZoneInfo(zone)) == shown
    assert short(timeutil.iso_local(at, ZoneInfo(zone))) == shown
