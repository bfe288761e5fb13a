"""Properties that must hold for any interruption log (computed without a database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outages.reliability.data import MS_PER_MINUTE, Customers, Interruptions, to_ms
from outages.reliability.dataset import build_dataset
from outages.reliability.merge import split
from outages.reliability.report import Variant, table
from outages.settings import load_settings

SETTINGS = load_settings(environ={})
BASE = to_ms(datetime(2025, 1, 1, tzinfo=UTC))
CUSTOMERS = 6

# (customer, start minute within the two years before 2026, duration minutes, planned)
rows = st.lists(
    st.tuples(st.integers(1, CUSTOMERS), st.integers(-365 * 1440, 365 * 1440 - 1),
              st.integers(0, 3000), st.booleans()),
    max_size=40,
)


def log_of(items: list[tuple[int, int, int, bool]]) -> Interruptions:
    count = len(items)
    customer = np.asarray([i[0] for i in items], dtype=np.int64)
    start = BASE + MS_PER_MINUTE * np.asarray([i[1] for i in items], dtype=np.int64)
    end = start + MS_PER_MINUTE * np.asarray([i[2] for i in items], dtype=np.int64)
    return Interruptions(customer, np.arange(count, dtype=np.int64), start, end,
                         np.asarray([i[3] for i in items], dtype=bool),
                         np.zeros(count, dtype=np.int64), ["-"], np.zeros(count, dtype=bool))


def registry() -> Customers:
    ids = np.arange(1, CUSTOMERS + 1, dtype=np.int64)
    zeros = np.zeros(CUSTOMERS, dtype=np.int64)
    return Customers(ids, zeros, ["-"], zeros - 10**6, zeros + 10**6)


def report(items: list[tuple[int, int, int, bool]], variant: Variant) -> dict:
    data = build_dataset(SETTINGS, date(2025, 1, 1), date(2025, 12, 31), log_of(items),
                         registry())
    return table(data, SETTINGS, by=None, variant=variant).totals.indices


@settings(max_examples=200, deadline=None)
@given(rows)
def test_saidi_is_saifi_times_caidi(items: list[tuple[int, int, int, bool]]) -> None:
    got = report(items, Variant())
    if got["CAIDI"] is None:
        assert got["SAIFI"] == 0 and got["SAIDI"] == 0
    else:
        assert got["SAIDI"] == pytest.approx(got["SAIFI"] * got["CAIDI"])


@settings(max_examples=200, deadline=None)
@given(rows)
def test_merging_never_increases_customer_minutes(items: list[tuple[int, int, int, bool]]) -> None:
    log = log_of(items)
    five_minutes = 5 * MS_PER_MINUTE
    sustained, _momentary = split(log, five_minutes)
    raw = (log.end - log.start)[(log.end - log.start) > five_minutes].sum()
    assert sustained.minutes.sum() * MS_PER_MINUTE <= raw
    assert len(sustained) <= int(((log.end - log.start) > five_minutes).sum())
    # Merged intervals of one customer never overlap.
    for customer in np.unique(sustained.customer):
        mine = np.sort(sustained.start[sustained.customer == customer])
        ends = sustained.end[sustained.customer == customer][
            np.argsort(sustained.start[sustained.customer == customer])]
        assert (mine[1:] > ends[:-1]).all()


@settings(max_examples=150, deadline=None)
@given(rows)
def test_excluding_meds_never_increases_saidi(items: list[tuple[int, int, int, bool]]) -> None:
    with_med = report(items, Variant("include", "include"))
    without = report(items, Variant("include", "exclude"))
    assert without["SAIDI"] <= with_med["SAIDI"] + 1e-12
    assert without["SAIFI"] <= with_med["SAIFI"] + 1e-12


@settings(max_examples=150, deadline=None)
@given(rows)
def test_planned_and_unplanned_add_up_to_all(items: list[tuple[int, int, int, bool]]) -> None:
    everything = report(items, Variant("include"))
    planned = report(items, Variant("only"))
    unplanned = report(items, Variant("exclude"))
    assert everything["customer_minutes"] == pytest.approx(
        planned["customer_minutes"] + unplanned["customer_minutes"])
    assert everything["customer_interruptions"] == (
        planned["customer_interruptions"] + unplanned["customer_interruptions"])
