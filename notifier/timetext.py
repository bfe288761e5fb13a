"""What a message needs to word a time in the reader's language: the local clock time, the
date, and whether that date is today or tomorrow for the reader at the moment the message
goes out. The words themselves live in templates/time/<language>.txt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class LocalTime:
    time: str  # "08:00"; "01:30 EST" when the clock shows 01:30 twice that night
    day: int
    month: int
    year: int
    relative: str | None  # "today", "tomorrow" or None
    show_year: bool  # not the reader's current year
    same_day: bool  # the same local day as the time it follows ("from 08:00 to 17:00")


def local_time(value: datetime, *, now: datetime, tz: tzinfo,
               follows: datetime | None = None) -> LocalTime:
    """`value` as read in zone `tz` by someone reading at `now`; `follows` is the time the
    phrase comes after, whose date need not be repeated."""
    local, today = value.astimezone(tz), now.astimezone(tz).date()
    offset = (local.date() - today).days
    relative = {0: "today", 1: "tomorrow"}.get(offset)
    same_day = follows is not None and follows.astimezone(tz).date() == local.date()
    return LocalTime(time=_clock(local), day=local.day, month=local.month,
                     year=local.year, relative=relative, show_year=local.year != today.year,
                     same_day=same_day)



def _clock(local: datetime) -> str:
    """The wall-clock time, with the zone's abbreviation when the clock shows it twice (the
    hour repeated when clocks go back): "01:45 EDT" then "01:15 EST" is not a window that
    ends before it starts."""
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return local.strftime("%H:%M")
    return f"{local:%H:%M} {local.tzname()}"
