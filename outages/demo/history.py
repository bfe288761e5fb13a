"""Plausible interruption history for the demo, written as an `interruptions import` CSV.

Feeder-level faults hit a whole feeder or a contiguous part of it, with step restoration;
a few planned cuts; momentary blips (auto-reclose, one to three in a row); and a few storm
days on which many feeders fault at once and stay out longer. Vectorised: events are drawn
as arrays and expanded to one row per customer with `np.repeat`, never a loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, String, cast, func, select

from outages.errors import ValidationError
from outages.models import Customer
from outages.reliability.calendar import local_days
from outages.reliability.data import MS_PER_SECOND
from outages.settings import Settings
from outages.text import CsvWriter

IntArray = npt.NDArray[np.int64]
FAULT_CAUSES = ("equipment_failure", "vegetation", "third_party_damage", "overload", "animal",
                "unknown")
COLUMNS = ("outage_id", "customer_code", "start", "end", "cause", "planned")
# Per feeder per year.
FAULTS, PLANNED, BLIPS = 1.6, 0.3, 0.5
STORMS_PER_YEAR = 2
_c = Customer.__table__.c


@dataclass(frozen=True)
class Feeders:
    """Customers sorted by feeder; feeder f owns rows offset[f]..offset[f]+size[f]-1."""

    codes: npt.NDArray[np.str_]
    connected: IntArray  # day number, far past when unknown
    offset: IntArray
    size: IntArray


@dataclass(frozen=True)
class Events:
    """Outages as arrays: start (epoch s), feeder, duration (s), cause, planned, part of the
    feeder hit (first row offset and length), reclose attempts."""

    start: IntArray
    feeder: IntArray
    duration: IntArray
    cause: npt.NDArray[np.str_]
    planned: npt.NDArray[np.bool_]
    part_from: IntArray
    part_size: IntArray
    attempts: IntArray


def load_feeders(conn: Connection) -> Feeders:
    query = select(_c.code, func.coalesce(_c.feeder, _c.district, "-"),
                   cast(_c.connected_on, String)).order_by(_c.id)
    rows = conn.execute(query).all()
    if not rows:
        raise ValidationError("there are no customers: load or generate customers first, "
                              "then generate their history", field="database")
    codes, feeders, connected = (np.asarray(column) for column in zip(*rows, strict=True))
    order = np.argsort(feeders, kind="stable")
    _names, first, size = np.unique(feeders[order], return_index=True, return_counts=True)
    days = np.asarray([c or "1900-01-01" for c in connected[order]], dtype="datetime64[D]")
    return Feeders(codes[order].astype(str), days.astype(np.int64), first.astype(np.int64),
                   size.astype(np.int64))


def draw(feeders: Feeders, settings: Settings, *, first: date, last: date,
         seed: int) -> Events:
    """Every outage of the history window, all kinds together."""
    rng = np.random.default_rng(seed)
    edges = local_days(first, last, settings.tz).edges // MS_PER_SECOND  # whole seconds here
    years = (last - first).days / 365.25
    count = len(feeders.size)
    parts = [
        _events(rng, feeders, edges, rng.poisson(FAULTS * years * count), kind="fault"),
        _events(rng, feeders, edges, rng.poisson(PLANNED * years * count), kind="planned"),
        _events(rng, feeders, edges, rng.poisson(BLIPS * years * count), kind="blip"),
        _storms(rng, feeders, edges, max(1, round(STORMS_PER_YEAR * years))),
    ]
    return Events(*(np.concatenate([getattr(p, name) for p in parts])
                    for name in Events.__dataclass_fields__))


def _events(rng: np.random.Generator, feeders: Feeders, edges: IntArray, n: int, *,
            kind: str, day: IntArray | None = None) -> Events:
    count = len(feeders.size)
    feeder = rng.integers(0, count, n)
    days = rng.integers(0, len(edges) - 1, n) if day is None else day
    size = feeders.size[feeder]
    whole = rng.random(n) < 0.5
    part = np.where(whole, size, np.maximum(1, (size * rng.uniform(0.1, 0.6, n)).astype(int)))
    part_from = feeders.offset[feeder] + (rng.random(n) * (size - part + 1)).astype(np.int64)
    if kind == "planned":
        start = edges[days] + 3600 * rng.integers(7, 10, n)  # work starts in the morning
        duration = 3600 * rng.integers(3, 9, n)
        cause = np.full(n, "planned")
    elif kind == "blip":
        start = edges[days] + rng.integers(0, 86400, n)
        duration = rng.integers(2, 120, n)
        cause = rng.choice(np.asarray(FAULT_CAUSES), n)
        part = size
        part_from = feeders.offset[feeder]
    else:
        start = edges[days] + rng.integers(0, 86400, n)
        median = 300 * 60 if kind == "storm" else 60 * 60
        duration = np.maximum(6 * 60, rng.lognormal(np.log(median), 0.8, n)).astype(np.int64)
        cause = (np.full(n, "weather") if kind == "storm"
                 else rng.choice(np.asarray((*FAULT_CAUSES, "weather")), n))
    attempts = rng.integers(1, 4, n) if kind == "blip" else np.ones(n, dtype=np.int64)
    return Events(start.astype(np.int64), feeder.astype(np.int64), duration.astype(np.int64),
                  cause.astype(str), np.full(n, kind == "planned"), part_from.astype(np.int64),
                  part.astype(np.int64), attempts.astype(np.int64))


def _storms(rng: np.random.Generator, feeders: Feeders, edges: IntArray, storms: int) -> Events:
    """Storm days: a third of the feeders fault the same day, longer than usual."""
    storm_days = rng.integers(0, len(edges) - 1, storms)
    per_storm = max(1, len(feeders.size) // 3)
    day = np.repeat(storm_days, per_storm)
    return _events(rng, feeders, edges, len(day), kind="storm", day=day)


def expand(events: Events, feeders: Feeders, rng_seed: int) -> dict[str, npt.NDArray]:
    """One row per customer per interruption (and per reclose attempt)."""
    rng = np.random.default_rng(rng_seed + 1)
    order = np.argsort(events.start, kind="stable")
    ids = _outage_ids(events.start[order])
    event_ids = np.empty(len(order), dtype=object)
    event_ids[order] = ids
    per_event = events.part_size * events.attempts
    event = np.repeat(np.arange(len(events.start)), per_event)
    within = np.arange(len(event)) - np.repeat(np.cumsum(per_event) - per_event, per_event)
    attempt = within // events.part_size[event]
    customer = events.part_from[event] + within % events.part_size[event]
    # Step restoration for faults: about a third of the customers come back at half time.
    step = np.where(~events.planned[event] & (events.duration[event] > 300)
                    & (rng.random(len(event)) < 0.35), 0.5, 1.0)
    start = events.start[event] + attempt * (events.duration[event] + 30)
    end = start + np.maximum(1, (events.duration[event] * step).astype(np.int64))
    # Nobody loses supply before being connected; rows in time order, then by customer.
    keep = np.flatnonzero(feeders.connected[customer] * 86400 <= start)
    keep = keep[np.lexsort((customer[keep], start[keep]))]
    return {"outage_id": event_ids[event][keep], "customer": customer[keep],
            "start": start[keep], "end": end[keep], "cause": events.cause[event][keep],
            "planned": events.planned[event][keep]}


def _outage_ids(starts: IntArray) -> list[str]:
    """H2022-000123: year of the start, then a number counting through the history."""
    years = starts.astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
    return [f"H{year}-{index + 1:06d}" for index, year in enumerate(years.tolist())]


def write_csv(path: Path, rows: dict[str, npt.NDArray], feeders: Feeders) -> int:
    """The import CSV; times in UTC (ISO 8601 with Z) so no local time is ambiguous."""
    start = np.char.add(np.datetime_as_string(rows["start"].astype("datetime64[s]")), "Z")
    end = np.char.add(np.datetime_as_string(rows["end"].astype("datetime64[s]")), "Z")
    planned = np.where(rows["planned"], "true", "false")
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(COLUMNS)
            writer.writerows(zip(rows["outage_id"], feeders.codes[rows["customer"]], start, end,
                                 rows["cause"], planned, strict=True))
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror}", field="out") from None
    return len(start)


def generate(conn: Connection, settings: Settings, path: Path, *, years: int, seed: int,
             last: date) -> dict[str, int | str]:
    """Write `years` years of history ending on local day `last`; return what was written."""
    if years < 1:
        raise ValidationError("give at least one year", field="years")
    first = last - timedelta(days=round(365.25 * years)) + timedelta(days=1)
    feeders = load_feeders(conn)
    events = draw(feeders, settings, first=first, last=last, seed=seed)
    rows = expand(events, feeders, seed)
    written = write_csv(path, rows, feeders)
    return {"rows": written, "outages": len(np.unique(rows["outage_id"])),
            "customers": len(feeders.codes), "feeders": len(feeders.size),
            "from": first.isoformat(), "to": last.isoformat()}
