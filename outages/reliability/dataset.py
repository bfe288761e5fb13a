"""Everything a reliability report is computed from: the counted interruptions of the period
and of the MED history, the registry, the daily SAIDI and the MED threshold of each reporting
year.

A reporting year is a calendar year of local days (the project configures no other year
start). IEEE 1366 computes T_MED per reporting year from the five years just before it, so a
report over several years judges each day by its own year's threshold, as the report of that
year alone does."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from outages.reliability import med
from outages.reliability.calendar import Days, local_days
from outages.reliability.data import (
    MS_PER_HOUR,
    MS_PER_SECOND,
    Customers,
    Interruptions,
    day_number,
    from_ms,
    load_customers,
    load_interruptions,
    to_ms,
    with_continuations,
)
from outages.reliability.merge import Events, split
from outages.settings import Settings
from outages.timeutil import utcnow

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class History:
    """What one reporting year's MED threshold was computed from."""

    year: int
    first: date  # first day of the window searched
    until: date  # first day of the reporting year (not part of the history)
    data_from: date | None  # first day with an interruption in the window
    years_wanted: int
    threshold: med.Threshold | None
    unrestored: int  # interruptions begun in the window with no restoration: left out

    @property
    def years(self) -> float:
        """Years of history actually available (the window, or less when data starts later)."""
        if self.data_from is None:
            return 0.0
        start = max(self.data_from, self.first)
        return round((self.until - start).days / 365.25, 1)

    @property
    def short(self) -> bool:
        return self.years < self.years_wanted


@dataclass(frozen=True)
class Dataset:
    first: date
    last: date
    tz: ZoneInfo
    days: Days  # history days then period days
    period_from: int  # index in `days` of the first period day
    customers: Customers
    sustained: Events
    momentary: Events
    s_customer: IntArray  # registry row of each sustained row
    m_customer: IntArray
    s_day: IntArray  # index in `days` of each row's start
    m_day: IntArray
    causes: list[str]
    daily_saidi: FloatArray  # per day in `days`
    histories: list[History]  # one per reporting year of the period, in order
    open_interruptions: int

    @property
    def history(self) -> History:
        """The first reporting year's history."""
        return self.histories[0]

    @property
    def hours(self) -> float:
        """Real hours in the period (leap days and DST days as they are)."""
        return float(self.days.edges[-1] - self.days.edges[self.period_from]) / MS_PER_HOUR

    @property
    def t_med(self) -> float | None:
        return None if self.history.threshold is None else self.history.threshold.t_med

    @property
    def day_t_med(self) -> FloatArray:
        """Per day in `days`: T_MED of its reporting year in the period, NaN elsewhere or
        where the year has none."""
        limits = np.full(self.days.count, np.nan)
        for history in self.histories:
            if history.threshold is not None:
                begin = max((history.until - self.days.first).days, self.period_from)
                end = (date(history.year + 1, 1, 1) - self.days.first).days
                limits[begin:end] = history.threshold.t_med
        return limits

    @property
    def med_days(self) -> npt.NDArray[np.bool_]:
        """Per day in `days`: a major event day of the report period (NaN compares false)."""
        return self.daily_saidi > self.day_t_med


def history_start(first: date, years: int) -> date:
    """Where the MED history of the period's first reporting year begins."""
    return date(first.year - years, 1, 1)


def load_dataset(
    conn: Connection, settings: Settings, first: date, last: date, *, by: str | None,
    with_cause: bool,
) -> Dataset:
    """The interruptions of the period and of the MED history window, and the registry."""
    since = history_start(first, settings.reliability.med_history_years)
    days = local_days(since, last, settings.tz)
    until = int(days.edges[-1])
    cap = min(to_ms(utcnow()), until)
    log = load_interruptions(conn, since=from_ms(days.edges[0]), until=from_ms(until),
                             cap=from_ms(cap), with_cause=with_cause)
    log = with_continuations(conn, log, until=from_ms(until), cap=from_ms(cap))
    return build_dataset(settings, first, last, log, load_customers(conn, by=by))


def build_dataset(
    settings: Settings, first: date, last: date, log: Interruptions, customers: Customers
) -> Dataset:
    """Apply the counting rules to a loaded log (pure: tests feed it arrays directly)."""
    rules = settings.reliability
    since = history_start(first, rules.med_history_years)
    days = local_days(since, last, settings.tz)
    period_from = (first - since).days
    unrestored = days.index_of(log.start[log.open])
    log = _without_stale(log, int(days.edges[period_from]))
    sustained, momentary = split(log, round(rules.momentary_max.total_seconds() * MS_PER_SECOND))
    # Continuations after the period (data.with_continuations) count only inside a loss of
    # supply begun in it.
    until = int(days.edges[-1])
    sustained, momentary = sustained.take(sustained.start < until), momentary.take(
        momentary.start < until)
    begun = log.start < until
    s_day, m_day = days.index_of(sustained.start), days.index_of(momentary.start)
    served = customers.served_on(day_number(since) + np.arange(days.count, dtype=np.int64))
    minutes = sustained.minutes
    daily = med.daily_saidi(s_day, minutes, served)
    # The history counts only losses of supply whose restoration is recorded, in the period
    # too (a later reporting year's history), so a year's T_MED is the same in every report.
    known = med.daily_saidi(s_day, np.where(sustained.open, 0.0, minutes), served)
    seen = np.flatnonzero(np.bincount(np.r_[s_day, m_day], minlength=days.count))
    histories = [_history(days, year, rules.med_history_years, known, seen, unrestored)
                 for year in range(first.year, last.year + 1)]
    return Dataset(first, last, settings.tz, days, period_from, customers, sustained, momentary,
                   customers.index_of(sustained.customer), customers.index_of(momentary.customer),
                   s_day, m_day, log.causes, daily, histories,
                   int(log.open[begun & (days.index_of(log.start) >= period_from)].sum()))


def _without_stale(log: Interruptions, period_start: int) -> Interruptions:
    """`log` with every interruption never restored that began before the period left out.

    Its length is unknown (often a record left open years ago): counted up to the period's
    end it would put years of minutes on one history day, and absorb the customer's later
    interruptions into one loss of supply begun before the period. It becomes a zero-length
    row, which counts nowhere (history days count sustained minutes only, and it is not in
    the period): the log's other columns are shared, not copied."""
    stale = log.open & (log.start < period_start)
    if not stale.any():
        return log
    return replace(log, end=np.where(stale, log.start, log.end), open=log.open & ~stale)


def _history(days: Days, year: int, years: int, daily: FloatArray, seen: IntArray,
             unrestored: IntArray) -> History:
    """The history of reporting `year`: the `years` years before it, from the days
    loaded (every day from the first year's history on); `seen`: the sorted indices of the
    days with any interruption."""
    window_first = date(year - years, 1, 1)
    start, until = (window_first - days.first).days, (date(year, 1, 1) - days.first).days
    at = int(np.searchsorted(seen, start))
    data_from = (days.date(int(seen[at])) if at < len(seen) and seen[at] < until else None)
    left_out = int(((unrestored >= start) & (unrestored < until)).sum())
    return History(year, window_first, date(year, 1, 1), data_from, years,
                   med.threshold(daily[start:until]), left_out)

