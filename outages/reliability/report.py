"""The reliability report: indices per group for a chosen treatment of planned interruptions
and major event days, in the JSON shape other tools rely on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from outages.errors import ValidationError
from outages.reliability import results
from outages.reliability.data import CUSTOMER_GROUPS
from outages.reliability.dataset import Dataset, load_dataset
from outages.reliability.groups import BY, SERVED, Grouping, grouping
from outages.reliability.indices import Counted, Sums, Thresholds, indices, sums
from outages.settings import Settings

PLANNED = ("include", "exclude", "only")
MED = ("include", "exclude", "only")
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Variant:
    planned: str = "include"
    med: str = "include"

    @property
    def label(self) -> str:
        planned = {"include": "all", "exclude": "unplanned", "only": "planned"}[self.planned]
        med = {"include": "with MEDs", "exclude": "without MEDs", "only": "MEDs only"}[self.med]
        return f"{planned}, {med}"

    @property
    def short(self) -> str:
        planned = {"include": "all", "exclude": "unpl", "only": "plan"}[self.planned]
        return planned + {"include": "", "exclude": " -MED", "only": " MED"}[self.med]


@dataclass(frozen=True)
class Group:
    key: str
    customers_served: float
    indices: dict[str, Any]

    def to_json(self) -> results.Group:
        return results.Group(key=self.key, customers_served=_number(self.customers_served),
                             indices=self.indices)


@dataclass(frozen=True)
class Table:
    variant: Variant
    groups: list[Group]
    totals: Group


def thresholds(settings: Settings) -> Thresholds:
    rules = settings.reliability
    return Thresholds(rules.celid_s_hours * 60.0, rules.celid_t_hours * 60.0)


def table(data: Dataset, settings: Settings, *, by: str | None, variant: Variant,
          served: str = "end") -> Table:
    """Indices per group of `by` (one group 'all' without) and for the whole system."""
    limits = thresholds(settings)
    grouped = grouping(data, by, served)
    per_group = _sums(data, grouped, variant, limits)
    groups = [Group(name, float(grouped.served[g]),
                    indices(per_group, g, float(grouped.served[g]), float(grouped.hours[g])))
              for g, name in enumerate(grouped.names)]
    if by is None:
        return Table(variant, groups, groups[0])
    system = grouping(data, None, served)
    # Each customer is in exactly one region/district/feeder, so the system's counts are the
    # sums of the groups' (no second pass); by cause or month a customer spans groups.
    whole = (per_group.total() if by in CUSTOMER_GROUPS
             else _sums(data, system, variant, limits))
    totals = Group("all", float(system.served[0]),
                   indices(whole, 0, float(system.served[0]), float(system.hours[0])))
    return Table(variant, groups, totals)


def _sums(data: Dataset, grouped: Grouping, variant: Variant, limits: Thresholds) -> Sums:
    s_keep = _keep(data, variant, data.s_day, data.sustained.planned)
    m_keep = _keep(data, variant, data.m_day, data.momentary.planned)
    counted = Counted(
        grouped.s_group[s_keep], data.s_customer[s_keep], data.sustained.minutes[s_keep],
        grouped.m_group[m_keep], data.m_customer[m_keep], data.momentary.first[m_keep])
    return sums(counted, len(grouped.names), limits)


def _keep(data: Dataset, variant: Variant, day: Any, planned: BoolArray) -> BoolArray:
    keep = (day >= data.period_from) & (day < data.days.count)
    if variant.planned == "exclude":
        keep &= ~planned
    elif variant.planned == "only":
        keep &= planned
    if variant.med != "include":
        flagged = data.med_days[np.clip(day, 0, data.days.count - 1)]
        keep &= ~flagged if variant.med == "exclude" else flagged
    return keep


def major_event_days(data: Dataset) -> list[results.MajorEventDay]:
    """Days of the period over their own reporting year's T_MED."""
    flags = data.med_days
    return [results.MajorEventDay(date=data.days.date(int(i)).isoformat(),
                                  saidi=float(data.daily_saidi[i]))
            for i in np.flatnonzero(flags)]


def med_years(data: Dataset) -> list[results.MedYear]:
    return [results.MedYear(
        year=h.year, t_med=None if h.threshold is None else h.threshold.t_med,
        history_from=h.first.isoformat(), history_to=(h.until - timedelta(days=1)).isoformat(),
        history_years=h.years, history_short=h.short, unrestored_left_out=h.unrestored)
        for h in data.histories]


def to_json(data: Dataset, result: Table) -> results.ReliabilityReport:
    return results.ReliabilityReport.model_validate({
        "from": data.first.isoformat(),
        "to": data.last.isoformat(),
        "timezone": data.tz.key,
        "customers_served": _number(result.totals.customers_served),
        "t_med": data.t_med,
        "t_med_by_year": med_years(data),
        "major_event_days": major_event_days(data),
        "groups": [group.to_json() for group in result.groups],
        "totals": result.totals.to_json(),
    })


def _number(value: float) -> float | int:
    """Whole counts as integers (customers at the period end); averages stay fractional."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class Request:
    first: date
    last: date
    by: str | None = None
    planned: str | None = None  # None: planned and unplanned side by side
    med: str | None = None  # None: with and without major event days
    served: str = "end"

    def variants(self) -> list[Variant]:
        """The chosen variant first (include where not chosen), then the comparisons."""
        planned = [self.planned] if self.planned else list(PLANNED)
        meds = [self.med] if self.med else ["include", "exclude"]
        return [Variant(p, m) for m in meds for p in planned]


@dataclass(frozen=True)
class Result:
    request: Request
    data: Dataset
    tables: list[Table]

    @property
    def main(self) -> Table:
        return self.tables[0]

    def to_json(self) -> results.ReliabilityReport:
        return to_json(self.data, self.main)


def validate(request: Request) -> None:
    if request.first > request.last:
        raise ValidationError(f"the first day {request.first} is after the last day "
                              f"{request.last}", field="from")
    for name, choice, allowed in (("by", request.by, BY), ("planned", request.planned,
                                  PLANNED), ("med", request.med, MED),
                                  ("customers_served", request.served, SERVED)):
        if choice is not None and choice not in allowed:
            raise ValidationError(f"unknown value {choice!r}: use one of {', '.join(allowed)}",
                                  field=name)


def compute(conn: Connection, settings: Settings, request: Request, *,
            with_cause: bool = False) -> Result:
    """Load once, then one table per variant."""
    validate(request)
    data = load_dataset(conn, settings, request.first, request.last, by=request.by,
                        with_cause=with_cause or request.by == "cause")
    tables = [table(data, settings, by=request.by, variant=variant, served=request.served)
              for variant in request.variants()]
    return Result(request, data, tables)
