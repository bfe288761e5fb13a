"""Sustained and momentary interruptions of each customer, after the counting rules.

- a customer's overlapping (or touching) interruptions are one loss of supply, from the
  earliest start to the latest end, belonging to the interruption that began first: a short
  one running into a long one is part of it, two short ones overlapping may make a long one;
- each loss of supply is then sustained when longer than `momentary_max` or not restored
  yet (its end is only where the report stopped counting), momentary otherwise.

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
    (one outage, one customer) that did not end in a lockout. `open` marks a loss of supply
    with an interruption not restored yet (its end is where the report stopped counting)."""

    customer: IntArray
    outage: IntArray
    start: IntArray
    end: IntArray
    planned: BoolArray
    cause: IntArray
    first: BoolArray
    open: BoolArray

    def __len__(self) -> int:
        return len(self.start)

    @property
    def minutes(self) -> npt.NDArray[np.float64]:
        return (self.end - self.start).astype(np.float64) / MS_PER_MINUTE

    def take(self, rows: IntArray | BoolArray) -> Events:
        return Events(self.customer[rows], self.outage[rows], self.start[rows], self.end[rows],
                      self.planned[rows], self.cause[rows], self.first[rows],
                      self.open[rows])


def split(log: Interruptions, momentary_max_ms: int) -> tuple[Events, Events]:
    """(sustained, momentary) losses of supply from the raw log."""
    # An interruption not restored yet makes its loss of supply sustained: its end was cut
    # to the period's end (or now) for counting minutes, which says nothing about how long
    # it lasts.
    events = Events(log.customer, log.outage, log.start, np.maximum(log.end, log.start),
                    log.planned, log.cause, np.zeros(len(log), dtype=bool), log.open)
    merged = merge_overlaps(events)
    short = ((merged.end - merged.start) <= momentary_max_ms) & ~merged.open
    momentary = _mark_first_of_event(merged.take(short), _before_lockout(merged, short)[short])
    columns = vars(merged).copy()
    del merged
    # Column by column, each original freed as its copy is made: the sustained rows are
    # nearly all of the log, and eight columns of it at once would double the peak.
    keep = ~short
    for name in columns:
        columns[name] = columns[name][keep]
    columns["first"][:] = True
    return Events(**columns), momentary


def merge_overlaps(events: Events) -> Events:
    """One row per continuous loss of supply of a customer; its `open` is true when any of
    its interruptions' is.

    The rows are sorted in one take: at 20 million interruptions a copy of the log costs
    close to a gigabyte."""
    if len(events) == 0:
        return events
    customer, start, end = events.customer, events.start, events.end
    base = int(min(start.min(), end.min()))
    span = _span(customer, int(end.max()) - base + 1)
    # One int64 key (customer, start) sorts faster than lexsort.
    key = customer * span + (start - base)
    order = np.argsort(key, kind="stable")
    key = key[order]
    if (key[1:] == key[:-1]).any():
        # Begun at the same instant: the outage recorded first leads (its cause, planned or
        # not), whatever order the rows were stored or loaded in.
        order = order[np.lexsort((events.outage[order], key))]
    del key
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
                  np.maximum.reduceat(end, heads), merged.planned, merged.cause,
                  merged.first, np.logical_or.reduceat(ordered.open, heads))


def _before_lockout(merged: Events, short: BoolArray) -> BoolArray:
    """Per row of `merged` (sorted by customer and start): a momentary loss of supply whose
    customer's next loss is a sustained one of the same outage, the device having locked
    out."""
    locked = np.zeros(len(short), dtype=bool)
    locked[:-1] = (short[:-1] & ~short[1:] & (merged.customer[1:] == merged.customer[:-1])
                   & (merged.outage[1:] == merged.outage[:-1]))
    return locked


def _mark_first_of_event(momentary: Events, before_lockout: BoolArray) -> Events:
    """`first` on the first row of each momentary event, none on an event that ended in a
    lockout: IEEE 1366 leaves the events immediately preceding a lockout out of MAIFIe (the
    customer's sustained interruption counts instead); their interruptions stay in MAIFI."""
    if len(momentary) == 0:
        return momentary
    order = np.lexsort((momentary.start, momentary.outage, momentary.customer))
    ordered = momentary.take(order)  # few rows next to the sustained ones: lexsort is fine
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = (ordered.customer[1:] != ordered.customer[:-1]) | (
        ordered.outage[1:] != ordered.outage[:-1])
    heads = np.flatnonzero(first)
    first[heads] = ~np.logical_or.reduceat(before_lockout[order], heads)
    return Events(ordered.customer, ordered.outage, ordered.start, ordered.end, ordered.planned,
                  ordered.cause, first, ordered.open)


def _span(customer: IntArray, span: int) -> int:
    """`span`, once sure that customer id * span + time fits the int64 sort keys."""
    if int(customer.max()) >= np.iinfo(np.int64).max // span - 1:
        raise OverflowError(f"customer ids up to {int(customer.max())} over {span} ms do not fit "
                            "one int64 sort key; report over a shorter period")
    return span
