"""IEEE 1366 indices for many groups at once: grouped sums with bincount, then ratios.

Each counted sustained or momentary row carries a group number; customers are counted per
(group, customer) pair, so CEMI, CELID and CN need no loop over groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CEMI_N = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Thresholds:
    celid_s_minutes: float
    celid_t_minutes: float


@dataclass(frozen=True)
class Counted:
    """The rows that count for one report variant, each with its group number."""

    s_group: IntArray
    s_customer: IntArray
    s_minutes: FloatArray
    m_group: IntArray
    m_customer: IntArray
    m_first: BoolArray


@dataclass(frozen=True)
class Sums:
    """Per-group totals behind the indices (arrays of length `groups`)."""

    ci: FloatArray
    cmi: FloatArray
    cn: FloatArray
    momentary: FloatArray
    events: FloatArray
    cemi: dict[int, FloatArray]
    cemsmi: dict[int, FloatArray]
    celid_s: FloatArray
    celid_t: FloatArray

    def total(self) -> Sums:
        """One group holding the sums of all groups (valid when groups share no customer)."""
        def add(values: FloatArray) -> FloatArray:
            return np.asarray([values.sum()])

        return Sums(add(self.ci), add(self.cmi), add(self.cn), add(self.momentary),
                    add(self.events), {n: add(v) for n, v in self.cemi.items()},
                    {n: add(v) for n, v in self.cemsmi.items()}, add(self.celid_s),
                    add(self.celid_t))


def sums(counted: Counted, groups: int, thresholds: Thresholds) -> Sums:
    def count(values: IntArray, weights: Any = None) -> FloatArray:
        return np.bincount(values, weights=weights, minlength=groups).astype(np.float64)

    pair_group, _pair_customer, k, total, longest = _per_customer(
        counted.s_group, counted.s_customer, counted.s_minutes)
    both_group, events_k = _events_per_customer(counted, pair_group, _pair_customer, k)
    return Sums(
        ci=count(counted.s_group),
        cmi=count(counted.s_group, counted.s_minutes),
        cn=count(pair_group),
        momentary=count(counted.m_group),
        events=count(counted.m_group, counted.m_first),
        cemi={n: count(pair_group, k > n) for n in CEMI_N},
        cemsmi={n: count(both_group, events_k > n) for n in CEMI_N},
        celid_s=count(pair_group, longest >= thresholds.celid_s_minutes),
        celid_t=count(pair_group, total >= thresholds.celid_t_minutes),
    )


def _per_customer(
    group: IntArray, customer: IntArray, minutes: FloatArray
) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray]:
    """(group, customer, count, total minutes, longest) per distinct (group, customer)."""
    if len(group) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty.astype(float), empty.astype(float)
    order = _pair_order(group, customer)
    g, c, m = group[order], customer[order], minutes[order]
    heads = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (c[1:] != c[:-1])])
    k = np.diff(np.r_[heads, len(g)]).astype(np.int64)
    return g[heads], c[heads], k, np.add.reduceat(m, heads), np.maximum.reduceat(m, heads)


def _events_per_customer(
    counted: Counted, pair_group: IntArray, pair_customer: IntArray, k: IntArray
) -> tuple[IntArray, IntArray]:
    """(group, sustained count + momentary events) per distinct (group, customer)."""
    first = counted.m_first
    group = np.r_[pair_group, counted.m_group[first]].astype(np.int64)
    customer = np.r_[pair_customer, counted.m_customer[first]].astype(np.int64)
    weight = np.r_[k, np.ones(int(first.sum()), dtype=np.int64)]
    if len(group) == 0:
        return group, weight
    order = _pair_order(group, customer)
    g, c, w = group[order], customer[order], weight[order]
    heads = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (c[1:] != c[:-1])])
    return g[heads], np.add.reduceat(w, heads)


def _pair_order(group: IntArray, customer: IntArray) -> IntArray:
    """An order that makes each (group, customer) pair contiguous. The key puts the customer
    first: counted rows arrive sorted by customer, and a stable sort (timsort) of sorted runs
    is linear."""
    key = customer * (int(group.max()) + 1) + group
    return np.argsort(key, kind="stable")


def indices(s: Sums, g: int, served: float, hours: float) -> dict[str, Any]:
    """The JSON `indices` object of group `g`; a ratio with a zero denominator is null."""
    ci, cmi, cn = float(s.ci[g]), float(s.cmi[g]), float(s.cn[g])
    return {
        "SAIFI": _ratio(ci, served),
        "SAIDI": _ratio(cmi, served),
        "CAIDI": _ratio(cmi, ci),
        "CTAIDI": _ratio(cmi, cn),
        "CAIFI": _ratio(ci, cn),
        "ASAI": None if served * hours == 0 else 1.0 - (cmi / 60.0) / (served * hours),
        "MAIFI": _ratio(float(s.momentary[g]), served),
        "MAIFIe": _ratio(float(s.events[g]), served),
        "CEMI": {str(n): _ratio(float(s.cemi[n][g]), served) for n in CEMI_N},
        "CEMSMI": {str(n): _ratio(float(s.cemsmi[n][g]), served) for n in CEMI_N},
        "CELID_s": _ratio(float(s.celid_s[g]), served),
        "CELID_t": _ratio(float(s.celid_t[g]), served),
        "customer_interruptions": int(ci),
        "customer_minutes": cmi,
        "customers_interrupted": int(cn),
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator
