"""Sustained and momentary interruptions of each customer, after the counting rules.

- sustained: longer than `momentary_max`, or not restored yet; momentary: that or shorter;
- a customer's overlapping (or touching) sustained interruptions are one loss of supply, from
  the earliest start to the latest end, belonging to the interruption that began first;
- a momentary interruption that begins inside a customer's sustained one is not counted.

All vectorised: sort by customer and start, a running maximum of the end that restarts at
each customer, and new-group flags.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from outages.reliability.data import MS_PER_MINUTE, Interruptions

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Events:
    """Interruptions as counted. Sustained rows are merged losses of supply; momentary rows
    are single momentary interruptions, `first` marking the first of each momentary event
    (one outage, one customer)."""

    customer: IntArray
    outage: IntArray
    start: IntArray
    end: IntArray
    planned: BoolArray
    cause: IntArray
    first: BoolArray

    def __len__(self) -> int:
        return len(self.start)

    @property
    def minutes(self) -> npt.NDArray[np.float64]:
        return (self.end - self.start).astype(np.float64) / MS_PER_MINUTE

    def take(self, rows: IntArray | BoolArray) -> Events:
        return Events(self.customer[rows], self.outage[rows], self.start[rows], self.end[rows],
                      self.planned[rows], self.cause[rows], self.first[rows])


def split(log: Interruptions, momentary_max_ms: int) -> tuple[Events, Events]:
    """(merged sustained, counted momentary) from the raw log."""
    events = Events(log.customer, log.outage, log.start, np.maximum(log.end, log.start),
                    log.planned, log.cause, np.ones(len(log), dtype=bool))
    # One not restored yet is sustained: its end was cut to the period's end (or now) for
    # counting minutes, which says nothing about how long it lasts.
    sustained_rows = ((events.end - events.start) > momentary_max_ms) | log.open
    sustained = merge_overlaps(events, np.flatnonzero(sustained_rows))
    momentary = _outside(events.take(~sustained_rows), sustained)
    return sustained, _mark_first_of_event(momentary)


def merge_overlaps(events: Events, rows: IntArray | None = None) -> Events:
    """One row per continuous loss of supply of a customer, among `rows` (default all).

    The rows are picked and sorted in one take: at 20 million interruptions a copy of
    the log costs close to a gigabyte."""
    if rows is None:
        rows = np.arange(len(events), dtype=np.int64)
    if len(rows) == 0:
        return events.take(rows)
    customer, start, end = events.customer[rows], events.start[rows], events.end[rows]
    base = int(min(start.min(), end.min()))
    span = _span(customer, int(end.max()) - base + 1)
    # One int64 key (customer, start) sorts faster than lexsort; equal starts keep load order.
    order = rows[np.argsort(customer * span + (start - base), kind="stable")]
    del customer, start, end
    ordered = events.take(order)
    del order
    customer, start, end = ordered.customer, ordered.start, ordered.end
    # Offsetting each customer's ends by its rank makes one global running maximum restart
    # at every customer boundary.
    rank = np.cumsum(np.r_[False, customer[1:] != customer[:-1]]).astype(np.int64)
    running = np.maximum.accumulate(rank * span + (end - base)) - rank * span + base
    new = np.ones(len(customer), dtype=bool)
    new[1:] = (customer[1:] != customer[:-1]) | (start[1:] > running[:-1])
    heads = np.flatnonzero(new)
    merged = ordered.take(heads)
    return Events(merged.customer, merged.outage, merged.start,
                  np.maximum.reduceat(end, heads), merged.planned, merged.cause, merged.first)


def _outside(momentary: Events, sustained: Events) -> Events:
    """Momentary interruptions that do not begin inside the customer's sustained ones."""
    if len(momentary) == 0 or len(sustained) == 0:
        return momentary
    # Merged sustained rows come sorted by (customer, start) and do not overlap per customer,
    # so the candidate is the last one starting at or before the momentary start.
    s_customer, s_start, s_end = sustained.customer, sustained.start, sustained.end
    keys = _pair_keys(s_customer, s_start, momentary.customer, momentary.start)
    at = np.searchsorted(keys[0], keys[1], side="right") - 1
    found = at >= 0
    at = np.where(found, at, 0)
    inside = (found & (s_customer[at] == momentary.customer) & (s_start[at] <= momentary.start)
              & (momentary.start < s_end[at]))
    return momentary.take(~inside)


def _pair_keys(
    a_customer: IntArray, a_time: IntArray, b_customer: IntArray, b_time: IntArray
) -> tuple[IntArray, IntArray]:
    """Sortable int64 keys for (customer, time) pairs of two arrays on a common scale."""
    base = int(min(a_time.min(), b_time.min()))
    span = _span(np.r_[a_customer, b_customer], int(max(a_time.max(), b_time.max())) - base + 1)
    return a_customer * span + (a_time - base), b_customer * span + (b_time - base)


def _mark_first_of_event(momentary: Events) -> Events:
    if len(momentary) == 0:
        return momentary
    order = np.lexsort((momentary.start, momentary.outage, momentary.customer))
    ordered = momentary.take(order)  # few rows next to the sustained ones: lexsort is fine
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = (ordered.customer[1:] != ordered.customer[:-1]) | (
        ordered.outage[1:] != ordered.outage[:-1])
    return Events(ordered.customer, ordered.outage, ordered.start, ordered.end, ordered.planned,
                  ordered.cause, first)


def _span(customer: IntArray, span: int) -> int:
    """`span`, once sure that customer id * span + time fits the int64 sort keys."""
    if int(customer.max()) >= np.iinfo(np.int64).max // span - 1:
        raise OverflowError(f"customer ids up to {int(customer.max())} over {span} ms do not fit "
                            "one int64 sort key; report over a shorter period")
    return span
