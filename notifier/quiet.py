"""Quiet hours: non-urgent notices due inside the window wait for its end, unless waiting
would make them late (at or after `deadline`), in which case they go when due."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class QuietHours:
    """The window applied when a notice is about to go (it was applied when it was queued,
    but a retry, a backlog or a worker down for a while can bring it to the night)."""

    tz: ZoneInfo
    window: tuple[int, int]

    def hold_until(self, now: datetime, deadline: datetime | None = None) -> datetime | None:
        """When a non-urgent notice claimed at `now` may go, or None: at once."""
        wake = defer(now, self.tz, self.window, deadline)
        return wake if wake > now else None

    def last_end(self, now: datetime) -> datetime:
        """The latest end of the window at or before `now`: from then on, notices held
        through the night are free to go."""
        local = now.astimezone(self.tz)
        end = time(self.window[1] // 60, self.window[1] % 60)
        day = local.date()
        ended = datetime.combine(day, end, tzinfo=self.tz)
        if ended > local:
            ended = datetime.combine(day - timedelta(days=1), end, tzinfo=self.tz)
        return ended.astimezone(now.tzinfo)
