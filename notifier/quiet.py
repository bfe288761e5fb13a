"""Quiet hours: non-urgent notices due inside the window wait for its end, unless waiting
would make them late (at or after `deadline`), in which case they go when due."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def inside(local: datetime, window: tuple[int, int]) -> bool:
    start, end = window
    minute = local.hour * 60 + local.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end  # the window crosses midnight


def defer(due: datetime, tz: ZoneInfo, window: tuple[int, int] | None,
          deadline: datetime | None = None) -> datetime:
    if window is None or window[0] == window[1]:
        return due
    local = due.astimezone(tz)
    if not inside(local, window):
        return due
    end = time(window[1] // 60, window[1] % 60)
    wake = datetime.combine(local.date(), end, tzinfo=tz)
    if wake <= local:
        wake = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    wake = wake.astimezone(due.tzinfo)
    if deadline is not None and wake >= deadline:
        return due
    return wake
