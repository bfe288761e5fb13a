"""One loss of supply per customer however its interruptions overlap: across outages, across
the sustained/momentary line, and across the end of the report period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.reliability import builders as b


def test_loss_of_supply_crossing_the_period_end_is_merged_with_its_continuation(
        engine, report) -> None:
    """README: overlapping sustained interruptions are one loss of supply "from the earliest
    start to the latest end, belonging to the interruption that began first", and one crossing
    the period end "counts whole in the period it began". Outage A 23:00 Dec 31 -> 02:00 Jan 1
    (180 min) and outage B 01:00 -> 05:00 Jan 1 for the same customer are one 360-minute loss
    of supply that began on Dec 31, in a December report as in a December..January one (or as
    history for the MED threshold)."""
    ids = b.customers(engine, 10)
    a = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 23:00 local, Dec 31
    b.interruptions(engine, b.outage(engine), [ids[0]], a, 180)
    b.interruptions(engine, b.outage(engine), [ids[0]], a + timedelta(hours=2), 240)
    # Another customer's interruption begun in January stays January's, and a chain of
    # continuations is followed: customer 2's C 23:30 -> 00:30, D 00:20 -> 03:00 and
    # E 02:50 -> 04:00 are one loss of 270 minutes.
    b.interruptions(engine, b.outage(engine), [ids[1]], a + timedelta(hours=2), 30)
    for begin, minutes in ((30, 60), (80, 160), (230, 70)):
        b.interruptions(engine, b.outage(engine), [ids[2]], a + timedelta(minutes=begin),
                        minutes)
    wider = {g.key: g.indices for g in report("2025-12-01", "2026-01-31", by="month").groups}
    assert wider["2025-12"]["customer_minutes"] == pytest.approx(360 + 270)
    december = report("2025-12-01", "2025-12-31").totals.indices
    assert december["customer_minutes"] == pytest.approx(360 + 270)
    assert december["customer_interruptions"] == 2
    assert december["SAIDI"] == pytest.approx(63)


def test_overlapping_short_interruptions_are_one_sustained_loss_of_supply(
        engine, report) -> None:
    """DOMAIN.md: a customer caught in two overlapping outages had one loss of supply: merge
    the intervals. Two 4-minute interruptions (different outages) 10:00-10:04 and
    10:03-10:07 are one 7-minute loss of supply, longer than 5 minutes: sustained, not two
    momentary interruptions."""
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), [ids[0]], b.T0, 4)
    b.interruptions(engine, b.outage(engine), [ids[0]], b.T0 + timedelta(minutes=3), 4)
    got = report("2025-01-01", "2025-12-31").totals.indices
    assert got["customer_interruptions"] == 1
    assert got["customer_minutes"] == pytest.approx(7)
    assert got["MAIFI"] == 0


def test_short_interruption_running_into_a_sustained_one_is_not_counted_twice(
        engine, report) -> None:
    """DOMAIN.md: overlapping outages of one customer are one loss of supply; summing them
    double-counts. A 3-minute interruption 10:00-10:03 and a 60-minute one 10:02-11:02 of the
    same customer are one 62-minute loss of supply, not a 60-minute one and a momentary
    interruption (MAIFI 0.1) beside it."""
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), [ids[0]], b.T0, 3)
    b.interruptions(engine, b.outage(engine), [ids[0]], b.T0 + timedelta(minutes=2), 60)
    got = report("2025-01-01", "2025-12-31").totals.indices
    assert got["customer_interruptions"] == 1
    assert got["MAIFI"] == 0
    assert got["MAIFIe"] == 0
    assert got["customer_minutes"] == pytest.approx(62)


def test_two_interruptions_begun_at_the_same_instant_belong_to_the_first_outage(
        engine, report) -> None:
    """A customer out in two outages from the same instant had one loss of supply, counted
    under the outage recorded first (its cause, planned or not), whatever order the rows are
    stored or loaded in."""
    ids = b.customers(engine, 10)
    first, second = b.outage(engine, cause="weather"), b.outage(engine, kind="planned")
    # Stored second first: a loader reading in storage order meets the planned one first.
    b.interruptions(engine, second, ids[:3], b.T0, 90, planned=True, cause="planned")
    b.interruptions(engine, first, ids[:3], b.T0, 60, cause="weather")
    by_cause = {g.key: g.indices for g in report("2025-01-01", "2025-12-31", by="cause").groups}
    assert by_cause["weather"]["customer_interruptions"] == 3
    assert by_cause["weather"]["customer_minutes"] == pytest.approx(270)
    assert by_cause.get("planned", {}).get("customer_interruptions", 0) == 0


def test_a_continuation_never_restored_counts_to_the_period_s_end_as_any_open_one(
        engine, report) -> None:
    """An open interruption counts up to the end of the period (or now): so does one that
    continues a loss of supply begun in the period, instead of running on to now."""
    ids = b.customers(engine, 10)
    a = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 23:00 local, Dec 31
    b.interruptions(engine, b.outage(engine), [ids[0]], a, 180)  # to 02:00 Jan 1
    b.interruptions(engine, b.outage(engine), [ids[0]], a + timedelta(hours=2), None)
    december = report("2025-12-01", "2025-12-31").totals.indices
    assert december["customer_interruptions"] == 1
    assert december["customer_minutes"] == pytest.approx(180)
