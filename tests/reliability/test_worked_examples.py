"""The published worked examples and the hand-computed counting-rule cases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outages.reliability.results import ReliabilityReport
from tests.reliability import builders as b
from tests.reliability.conftest import Report


def totals(result: ReliabilityReport) -> dict[str, Any]:
    return result.totals.indices


def test_ieee_example_fifty_thousand_customers(engine, report: Report) -> None:
    ids = b.customers(engine, 50_000)
    start, taken = b.T0, 0
    for count, minutes in ((10, 90), (1000, 20), (2, 175), (1, 120), (1, 38)):
        b.interruptions(engine, b.outage(engine), ids[taken:taken + count], start, minutes)
        taken, start = taken + count, start + timedelta(days=1)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["SAIFI"] == pytest.approx(0.02028)
    assert got["SAIDI"] == pytest.approx(0.42816)
    assert round(got["CAIDI"], 3) == 21.112
    assert got["customer_interruptions"] == 1014
    assert got["customer_minutes"] == pytest.approx(21408)


def test_ieee_example_thousand_customers_with_momentary_events(engine, report: Report) -> None:
    ids = b.customers(engine, 1000)
    day = timedelta(days=1)
    b.interruptions(engine, b.outage(engine), ids[:200], b.T0, 90)
    b.interruptions(engine, b.outage(engine), ids[200:250], b.T0 + day, 240)
    b.interruptions(engine, b.outage(engine), ids, b.T0 + 2 * day, 30)
    b.interruptions(engine, b.outage(engine), ids[:600], b.T0 + 3 * day, 2)
    b.interruptions(engine, b.outage(engine), ids[300:600], b.T0 + 4 * day, 1)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["SAIFI"] == pytest.approx(1.25)
    assert got["SAIDI"] == pytest.approx(60)
    assert got["CAIDI"] == pytest.approx(48)
    assert got["MAIFIe"] == pytest.approx(0.9)
    assert got["ASAI"] == pytest.approx(1 - 60 / 525600, abs=1e-12)
    assert got["CEMI"] == pytest.approx({"1": 0.25, "2": 0, "3": 0, "4": 0, "5": 0})
    # 0-249: 2 sustained + 1 event; 250-299: 1 + 1; 300-599: 1 + 2; 600-999: 1.
    assert got["CEMSMI"]["1"] == pytest.approx(0.6)
    assert got["CEMSMI"]["2"] == pytest.approx(0.55)
    assert got["CELID_s"] == pytest.approx(0.05)
    assert got["customers_interrupted"] == 1000


def test_step_restoration_counts_each_customer_to_its_own_restoration(engine, report) -> None:
    ids = b.customers(engine, 10)
    outage = b.outage(engine)
    for cid, minutes in zip(ids[:3], (30, 60, 90), strict=True):
        b.interruptions(engine, outage, [cid], b.T0, minutes)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["customer_interruptions"] == 3
    assert got["customer_minutes"] == pytest.approx(180)
    assert got["SAIDI"] == pytest.approx(18)
    assert got["CAIDI"] == pytest.approx(60)
    assert got["CELID_s"] == 0


def test_nested_outages_merge_into_one_loss_of_supply_of_the_first(engine, report) -> None:
    ids = b.customers(engine, 4)
    first = b.outage(engine, cause="weather")
    second = b.outage(engine, kind="planned", cause="planned")
    b.interruptions(engine, first, ids[:2], b.T0, 120, cause="weather")
    b.interruptions(engine, second, [ids[0]], b.T0 + timedelta(minutes=30), 30,
                    planned=True, cause="planned")  # nested inside
    b.interruptions(engine, second, [ids[1]], b.T0 + timedelta(minutes=100), 60,
                    planned=True, cause="planned")  # overlaps the end: 0..160
    b.interruptions(engine, second, [ids[2]], b.T0 + timedelta(minutes=120), 20,
                    planned=True, cause="planned")  # another customer: on its own
    result = report("2025-01-01", "2025-12-31", by="cause")
    got = totals(result)
    assert got["customer_interruptions"] == 3
    assert got["customer_minutes"] == pytest.approx(120 + 160 + 20)
    by_cause = {g.key: g.indices for g in result.groups}
    assert by_cause["weather"]["customer_minutes"] == pytest.approx(280)
    assert by_cause["planned"]["customer_minutes"] == pytest.approx(20)
    unplanned = totals(report("2025-01-01", "2025-12-31", planned="exclude"))
    assert unplanned["customer_minutes"] == pytest.approx(280)


def test_momentary_inside_a_sustained_interruption_is_not_counted(engine, report) -> None:
    ids = b.customers(engine, 5)
    b.interruptions(engine, b.outage(engine), [ids[0]], b.T0, 60)
    blip = b.outage(engine)
    b.interruptions(engine, blip, [ids[0]], b.T0 + timedelta(minutes=10), 2)  # inside
    b.interruptions(engine, blip, [ids[0]], b.T0 + timedelta(minutes=70), 1)  # after
    b.interruptions(engine, blip, [ids[1]], b.T0 + timedelta(minutes=10), 2)  # other customer
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["MAIFI"] == pytest.approx(2 / 5)
    assert got["MAIFIe"] == pytest.approx(2 / 5)
    assert got["customer_interruptions"] == 1


def test_momentary_event_groups_one_outage_per_customer(engine, report) -> None:
    ids = b.customers(engine, 2)
    reclose = b.outage(engine)
    for minute in (0, 1, 2):
        b.interruptions(engine, reclose, ids, b.T0 + timedelta(minutes=minute), 0.5)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["MAIFI"] == pytest.approx(3)
    assert got["MAIFIe"] == pytest.approx(1)


def test_momentary_event_ending_in_a_lockout_is_not_a_momentary_event(engine, report) -> None:
    # IEEE 1366: MAIFIe leaves out the events immediately preceding a lockout; MAIFI keeps
    # their interruptions. Two recloser shots of one outage, then the fuse of customers 0-3
    # blows (a sustained interruption of the same outage); 4-5 see the shots only; 6 sees a
    # shot of one outage and, an hour later, a sustained interruption of another.
    ids = b.customers(engine, 10)
    fault, other, later = b.outage(engine), b.outage(engine), b.outage(engine)
    for shot in (0, 1):
        b.interruptions(engine, fault, ids[:6], b.T0 + timedelta(minutes=shot), 0.5)
    b.interruptions(engine, fault, ids[:4], b.T0 + timedelta(minutes=2), 60)
    b.interruptions(engine, other, [ids[6]], b.T0 + timedelta(hours=2), 0.5)
    b.interruptions(engine, later, [ids[6]], b.T0 + timedelta(hours=3), 60)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["MAIFI"] == pytest.approx((6 * 2 + 1) / 10)
    assert got["MAIFIe"] == pytest.approx(3 / 10)  # customers 4, 5 and 6
    assert got["SAIFI"] == pytest.approx(5 / 10)
    # Customer 6: one sustained interruption and one event; 0-3: the sustained one only.
    assert got["CEMSMI"]["1"] == pytest.approx(1 / 10)


def test_exactly_five_minutes_is_momentary_and_a_second_more_sustained(engine, report) -> None:
    ids = b.customers(engine, 2)
    b.interruptions(engine, b.outage(engine), [ids[0]], b.T0, 5)
    b.interruptions(engine, b.outage(engine), [ids[1]], b.T0, 5 + 1 / 60)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["MAIFI"] == pytest.approx(0.5)
    assert got["customer_interruptions"] == 1
    assert got["customer_minutes"] == pytest.approx(5 + 1 / 60)


def test_outage_crossing_the_period_end_counts_whole_in_the_period_it_began(engine, report) -> None:
    ids = b.customers(engine, 10)
    late = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 23:00 in Hanoi
    b.interruptions(engine, b.outage(engine), ids[:2], late, 180)
    early = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # began in the previous year
    b.interruptions(engine, b.outage(engine), ids[2:4], early, 180)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["customer_interruptions"] == 2
    assert got["customer_minutes"] == pytest.approx(360)
    assert totals(report("2026-01-01", "2026-01-31"))["customer_interruptions"] == 0


def test_leap_year_asai_uses_8784_hours(engine, report) -> None:
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), [ids[0]], datetime(2024, 2, 29, 3, tzinfo=UTC), 60)
    got = totals(report("2024-01-01", "2024-12-31"))
    assert got["ASAI"] == pytest.approx(1 - 1 / (10 * 8784), abs=1e-15)
    assert got["ASAI"] != pytest.approx(1 - 1 / (10 * 8760), abs=1e-9)


def test_dst_days_count_as_they_are_and_days_are_local(engine, make_settings, report) -> None:
    berlin = make_settings(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    ids = b.customers(engine, 10)
    # 2025-03-30 00:30 local (CET, UTC+1) = 03-29 23:30 UTC: belongs to the 30th.
    b.interruptions(engine, b.outage(engine), [ids[0]], datetime(2025, 3, 29, 23, 30,
                                                                  tzinfo=UTC), 60)
    day = totals(report("2025-03-30", "2025-03-30", settings_=berlin))
    assert day["customer_minutes"] == pytest.approx(60)
    assert day["ASAI"] == pytest.approx(1 - 1 / (10 * 23), abs=1e-15)
    march = totals(report("2025-03-01", "2025-03-31", settings_=berlin))
    assert march["ASAI"] == pytest.approx(1 - 1 / (10 * 743), abs=1e-15)
    utc = totals(report("2025-03-30", "2025-03-30",
                        settings_=make_settings(OUTAGES_LOCALE_TIMEZONE="UTC")))
    assert utc["customer_interruptions"] == 0


def test_open_interruption_counts_to_the_end_of_a_past_period(engine, report) -> None:
    ids = b.customers(engine, 10)
    start = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 23:00 local, one hour before the end
    b.interruptions(engine, b.outage(engine), [ids[0]], start, None)
    b.interruptions(engine, b.outage(engine), [ids[1]], None, None)  # placeholder: skipped
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["customer_interruptions"] == 1
    assert got["customer_minutes"] == pytest.approx(60)


def test_med_threshold_from_history_with_zero_days(engine, report, cli) -> None:
    ids = b.customers(engine, 100)
    history = datetime(2024, 6, 1, 3, tzinfo=UTC)
    # Daily SAIDI 1, e, e^2 (N_T 100); every other history day is zero and left out.
    for offset, minutes in ((0, 100), (10, 100 * math.e), (20, 100 * math.e ** 2)):
        b.interruptions(engine, b.outage(engine), [ids[0]],
                        history + timedelta(days=offset), minutes)
    b.interruptions(engine, b.outage(engine), [ids[1]], b.T0, 3400)  # SAIDI 34: a MED
    b.interruptions(engine, b.outage(engine), [ids[2]], b.T0 + timedelta(days=5), 3200)  # 32
    result = report("2025-01-01", "2025-12-31")
    assert result.t_med == pytest.approx(math.exp(3.5), rel=1e-4)
    assert result.t_med == pytest.approx(33.1155, abs=2e-3)
    assert [day.as_json() for day in result.major_event_days] == [
        {"date": "2025-03-10", "saidi": pytest.approx(34)}]
    assert totals(result)["SAIDI"] == pytest.approx(66)
    without = totals(report("2025-01-01", "2025-12-31", med="exclude"))
    assert without["SAIDI"] == pytest.approx(32)
    only = totals(report("2025-01-01", "2025-12-31", med="only"))
    assert only["SAIDI"] == pytest.approx(34)
    printed = cli("report", "reliability", "--from", "2025-01-01", "--to", "2025-12-31").stdout
    table = " ".join(printed.split())  # where rich wraps lines depends on the width
    assert "0.6 years of data, fewer than the 5 wanted: history starts 2024-06-01" in table
    assert "over 3 non-zero days" in table and "2025-03-10 (SAIDI 34.000)" in table


def test_no_history_means_no_threshold_and_no_med(engine, report) -> None:
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), ids, b.T0, 600)
    result = report("2025-01-01", "2025-12-31", med="exclude")
    assert result.t_med is None
    assert result.major_event_days == []
    assert totals(result)["SAIDI"] == pytest.approx(600)


def test_a_fraction_of_a_second_past_five_minutes_is_sustained(engine, report) -> None:
    ids = b.customers(engine, 3)
    start = b.T0 + timedelta(milliseconds=700)  # fractions at both ends
    for cid, seconds in zip(ids, (299.6, 300.0, 300.4), strict=True):
        b.interruptions(engine, b.outage(engine), [cid], start, seconds / 60)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["customer_interruptions"] == 1
    assert got["customer_minutes"] == pytest.approx(300.4 / 60, rel=1e-9)
    assert got["MAIFI"] == pytest.approx(2 / 3)


def test_customer_minutes_keep_every_fraction_of_a_second(engine, report) -> None:
    ids = b.customers(engine, 4)
    seconds = [600.25, 1200.5, 361.75, 900.999]
    for cid, length, offset in zip(ids, seconds, (0.9, 0.1, 0.5, 0.001), strict=True):
        b.interruptions(engine, b.outage(engine), [cid], b.T0 + timedelta(seconds=offset),
                        length / 60)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["customer_minutes"] == pytest.approx(sum(seconds) / 60, rel=1e-9)
    assert got["SAIDI"] == pytest.approx(sum(seconds) / 60 / 4, rel=1e-9)


def test_med_threshold_is_computed_from_fractional_durations(engine, report) -> None:
    import numpy as np

    from outages.reliability.med import threshold

    ids = b.customers(engine, 10)
    history = [(5, 6.5), (40, 7.25), (90, 30.75), (200, 8.125), (300, 12.5)]  # (day, seconds)
    start = datetime(2024, 1, 2, 3, 0, 0, 400_000, tzinfo=UTC)
    for day, seconds in history:
        b.interruptions(engine, b.outage(engine), ids[:2], start + timedelta(days=day),
                        (300 + seconds) / 60)
    got = report("2025-01-01", "2025-12-31")
    daily = np.asarray([2 * (300 + seconds) / 60 / 10 for _, seconds in history])
    expected = threshold(daily)
    assert expected is not None
    assert got.t_med == pytest.approx(expected.t_med, rel=1e-9)


def test_an_interruption_not_restored_is_sustained_however_little_of_it_is_counted(
        engine, report) -> None:
    # Out since 23:58 on the period's last day, with no restoration recorded: two minutes
    # fall in the period, and the interruption is still a sustained one.
    ids = b.customers(engine, 10)
    start = datetime(2025, 12, 31, 16, 58, tzinfo=UTC)  # 23:58 local
    b.interruptions(engine, b.outage(engine), [ids[0]], start, None)
    got = totals(report("2025-01-01", "2025-12-31"))
    assert got["MAIFI"] == 0
    assert got["customer_interruptions"] == 1
    assert got["customer_minutes"] == pytest.approx(2)
    assert got["SAIFI"] == pytest.approx(0.1)


def test_an_outage_in_progress_for_three_minutes_is_not_counted_as_momentary(
        engine, report, time_machine) -> None:
    ids = b.customers(engine, 10)
    now = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 local
    b.interruptions(engine, b.outage(engine), ids[:2], now - timedelta(minutes=3), None)
    time_machine.move_to(now, tick=False)
    got = totals(report("2025-06-10", "2025-06-10"))
    assert got["MAIFI"] == 0
    assert got["customer_interruptions"] == 2
    assert got["customer_minutes"] == pytest.approx(6)


def _saidi_days(engine, ids: list[int], start: datetime, saidi: list[float]) -> None:
    """One day every ten days from `start` with each daily SAIDI (N_T 100), one customer
    each so that nothing merges."""
    for n, value in enumerate(saidi):
        b.interruptions(engine, b.outage(engine), [ids[n]], start + timedelta(days=10 * n),
                        100 * value)


def test_each_reporting_year_is_judged_by_the_threshold_of_its_own_history(
        engine, report, cli, tmp_path) -> None:
    import csv
    import io

    import numpy as np

    from outages.reliability.med import threshold

    ids = b.customers(engine, 100)
    _saidi_days(engine, ids, datetime(2023, 6, 1, 3, tzinfo=UTC), [1, math.e, math.e ** 2])
    # SAIDI 34 on 2024-04-02: over 2024's T_MED e^3.5, a MED, and part of 2025's history.
    b.interruptions(engine, b.outage(engine), [ids[10]], datetime(2024, 4, 2, 3, tzinfo=UTC),
                    3400)
    # SAIDI 100 on 2025-05-06: over 2024's threshold, under 2025's own.
    b.interruptions(engine, b.outage(engine), [ids[11]], datetime(2025, 5, 6, 3, tzinfo=UTC),
                    10_000)
    of_2025 = threshold(np.asarray([1, math.e, math.e ** 2, 34.0]))
    assert of_2025 is not None and of_2025.t_med > 100

    both = report("2024-01-01", "2025-12-31")
    assert [day.date for day in both.major_event_days] == ["2024-04-02"]
    years = [year.as_json() for year in both.t_med_by_year]
    assert years == [
        {"year": 2024, "t_med": pytest.approx(math.exp(3.5), rel=1e-4),
         "history_from": "2019-01-01", "history_to": "2023-12-31", "history_years": 0.6,
         "history_short": True, "unrestored_left_out": 0},
        {"year": 2025, "t_med": pytest.approx(of_2025.t_med, rel=1e-9),
         "history_from": "2020-01-01", "history_to": "2024-12-31", "history_years": 1.6,
         "history_short": True, "unrestored_left_out": 0}]
    assert both.t_med == years[0]["t_med"]  # `t_med` stays: the first reporting year's
    without = totals(report("2024-01-01", "2025-12-31", med="exclude"))
    assert without["SAIDI"] == pytest.approx(100)
    # The 2025 report alone judges 2025 the same way.
    alone = report("2025-01-01", "2025-12-31")
    assert alone.t_med == pytest.approx(of_2025.t_med, rel=1e-9)
    assert alone.major_event_days == []

    period = ("--from", "2024-01-01", "--to", "2025-12-31")
    table = " ".join(cli("report", "reliability", *period).stdout.split())
    assert "T_MED of 2024 from local days 2019-01-01 to 2023-12-31" in table
    assert "T_MED of 2025 from local days 2020-01-01 to 2024-12-31" in table
    assert f"= {of_2025.t_med:.5f} min" in table
    rows = list(csv.DictReader(io.StringIO(cli("report", "reliability", *period, "--format",
                                               "csv").stdout)))
    assert float(rows[-1]["t_med_2025"]) == pytest.approx(of_2025.t_med, rel=1e-9)
    assert rows[-1]["t_med_2025_history_years"] == "1.6"
    assert rows[-1]["t_med_2025_history_short"] == "true"
    page = tmp_path / "r.html"
    assert cli("report", "reliability", *period, "--format", "html", "--out",
               str(page)).exit_code == 0
    assert f"{of_2025.t_med:.5f}" in page.read_text()


def test_an_interruption_never_restored_is_left_out_of_the_med_history(engine, report) -> None:
    # A record from 2021 with no restoration: counted up to the end of the period it would
    # put almost five years of one customer's minutes on 2021-03-04 and lift T_MED past any
    # real day, and swallow that customer's later interruptions into one loss of supply.
    ids = b.customers(engine, 100)
    _saidi_days(engine, ids, datetime(2024, 6, 1, 3, tzinfo=UTC), [1, math.e, math.e ** 2])
    stale = ids[10]
    b.interruptions(engine, b.outage(engine), [stale], datetime(2021, 3, 4, 3, tzinfo=UTC), None)
    b.interruptions(engine, b.outage(engine), [stale], b.T0, 60)
    b.interruptions(engine, b.outage(engine), [ids[11]], b.T0 + timedelta(days=5), 3400)
    result = report("2025-01-01", "2025-12-31")
    assert result.t_med == pytest.approx(math.exp(3.5), rel=1e-4)
    assert result.t_med_by_year[0].unrestored_left_out == 1
    assert [day.date for day in result.major_event_days] == ["2025-03-15"]
    assert totals(result)["customer_minutes"] == pytest.approx(60 + 3400)
    assert totals(result)["customer_interruptions"] == 2


def test_an_unrestored_interruption_counts_in_its_period_not_in_later_years_history(
        engine, report) -> None:
    ids = b.customers(engine, 100)
    _saidi_days(engine, ids, datetime(2023, 6, 1, 3, tzinfo=UTC), [1, math.e, math.e ** 2])
    b.interruptions(engine, b.outage(engine), [ids[10]], datetime(2024, 8, 1, 3, tzinfo=UTC),
                    None)
    # Its length is unknown: the 2025 threshold leaves it out of the history ...
    alone = report("2025-01-01", "2025-12-31")
    assert alone.t_med == pytest.approx(math.exp(3.5), rel=1e-4)
    both = report("2024-01-01", "2025-12-31")
    # ... while in its own period it counts until the period's end, as any not restored,
    assert [day.date for day in both.major_event_days] == ["2024-08-01"]
    # and a report over both years judges 2025 as the 2025 report does.
    of_2025 = both.t_med_by_year[1]
    assert of_2025.t_med == pytest.approx(alone.t_med, rel=1e-12)
    assert of_2025.unrestored_left_out == alone.t_med_by_year[0].unrestored_left_out == 1
