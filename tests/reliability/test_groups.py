"""Grouping, customers served and the MED method's arithmetic."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from outages.reliability.med import threshold
from tests.reliability import builders as b
from tests.reliability.conftest import Report


def test_med_threshold_of_the_published_example() -> None:
    got = threshold(np.array([1.0, math.e, math.e ** 2, 0.0]))
    assert got is not None
    assert got.alpha == pytest.approx(1.0)
    assert got.beta == pytest.approx(1.0)
    assert got.t_med == pytest.approx(33.1155, abs=1e-4)
    assert got.days_used == 3


def test_med_threshold_needs_two_non_zero_days() -> None:
    assert threshold(np.array([0.0, 4.0, 0.0])) is None


def test_by_district_each_group_with_its_own_customers_served(engine, report: Report) -> None:
    north = b.customers(engine, 10, district="North")
    south = b.customers(engine, 30, district="South")
    b.interruptions(engine, b.outage(engine), north[:5], b.T0, 60)
    b.interruptions(engine, b.outage(engine), south[:3], b.T0, 100)
    result = report("2025-01-01", "2025-12-31", by="district")
    groups = {g.key: g for g in result.groups}
    assert groups["North"].customers_served == 10
    assert groups["North"].indices["SAIDI"] == pytest.approx(30)
    assert groups["South"].customers_served == 30
    assert groups["South"].indices["SAIDI"] == pytest.approx(10)
    assert result.customers_served == 40
    assert result.totals.indices["SAIDI"] == pytest.approx((300 + 300) / 40)


def test_customers_served_at_the_end_or_on_average(engine, report: Report) -> None:
    b.customers(engine, 10, connected_on=date(2020, 1, 1))
    b.customers(engine, 10, district="New", connected_on=date(2025, 7, 2))  # 183 of 365 days
    b.customers(engine, 5, district="Gone", disconnected_on=date(2025, 12, 31))
    assert report("2025-01-01", "2025-12-31").customers_served == 20
    average = report("2025-01-01", "2025-12-31", served="average").customers_served
    assert average == pytest.approx(10 + 10 * 183 / 365 + 5 * 364 / 365)


def test_by_month_uses_each_months_hours(engine, report: Report) -> None:
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), ids[:1], datetime(2024, 2, 10, 3, tzinfo=UTC), 60)
    result = report("2024-01-15", "2024-03-31", by="month")
    groups = {g.key: g.indices for g in result.groups}
    assert list(groups) == ["2024-01", "2024-02", "2024-03"]
    assert groups["2024-02"]["ASAI"] == pytest.approx(1 - 1 / (10 * 29 * 24), abs=1e-15)
    assert groups["2024-01"]["ASAI"] == 1.0
    assert groups["2024-01"]["customer_interruptions"] == 0


def test_by_feeder_cemi_counts_customers_with_more_than_n(engine, report: Report) -> None:
    ids = b.customers(engine, 4, feeder="F7")
    for day in range(3):
        b.interruptions(engine, b.outage(engine), ids[:2], b.T0 + timedelta(days=day), 10)
    b.interruptions(engine, b.outage(engine), ids[2:3], b.T0, 10)
    result = report("2025-01-01", "2025-12-31", by="feeder")
    (feeder,) = result.groups
    assert feeder.key == "F7"
    assert feeder.indices["CEMI"] == pytest.approx(
        {"1": 0.5, "2": 0.5, "3": 0, "4": 0, "5": 0})
    assert feeder.indices["CAIFI"] == pytest.approx(7 / 3)
    assert feeder.indices["CTAIDI"] == pytest.approx(70 / 3)


@pytest.mark.parametrize("by", ["region", "district", "feeder", "cause", "month"])
def test_totals_do_not_depend_on_the_grouping(engine, report: Report, by: str) -> None:
    north = b.customers(engine, 6, district="North", feeder="F1", region="R1")
    south = b.customers(engine, 4, district="South", feeder="F2", region="R2")
    for day, ids, minutes, cause in ((0, north[:3], 30, "weather"), (1, north[:2], 300, "animal"),
                                     (2, south, 45, "weather"), (40, north[:1] + south[:1], 20,
                                                                 "animal")):
        b.interruptions(engine, b.outage(engine), ids, b.T0 + timedelta(days=day), minutes,
                        cause=cause)
    b.interruptions(engine, b.outage(engine), north, b.T0 + timedelta(days=3), 1, cause="animal")
    plain = report("2025-01-01", "2025-12-31").totals.indices
    grouped = report("2025-01-01", "2025-12-31", by=by).totals.indices
    for name in ("CEMI", "CEMSMI"):
        assert grouped.pop(name) == pytest.approx(plain.pop(name))
    assert grouped == pytest.approx(plain)
    assert plain["customers_interrupted"] == 7 and plain["customer_interruptions"] == 11
