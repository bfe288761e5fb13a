"""Quiet hours: non-urgent notices due inside the window wait for its end, unless waiting
would make them late (at or after `deadline`), in which case they go when due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
    if not inside(due.astimezone(tz), window):
        return due
    end = time(window[1] // 60, window[1] % 60)
    day = due.astimezone(tz).date()
    wake = next(at for d in (day, day + timedelta(days=1)) for at in _reads(d, end, tz)
                if at > due).astimezone(due.tzinfo)
    if deadline is not None and wake >= deadline:
        return due
    return wake


def _reads(day: date, clock: time, tz: ZoneInfo) -> list[datetime]:
    """The instants, in order, at which the local clock comes to `clock` on `day`: one; two
    in the hour repeated when the clocks go back; and for a time the clocks skip going
    forward, the instant they jump past it."""
    found: list[datetime] = []
    for fold in (0, 1):
        at = datetime.combine(day, clock, tzinfo=tz).replace(fold=fold).astimezone(UTC)
        shown = at.astimezone(tz)
        if (shown.date(), shown.time()) == (day, clock) and at not in found:
            found.append(at)
    return sorted(found) or [_jump(day, clock, tz)]


def _jump(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The instant the clocks jump forward over `clock` on `day` (a time that never shows)."""
    before = datetime.combine(day, clock, tzinfo=tz).replace(fold=1).astimezone(UTC)
    after = datetime.combine(day, clock, tzinfo=tz).replace(fold=0).astimezone(UTC)
    low, high = min(before, after), max(before, after)
    offset = low.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


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
        end = time(self.window[1] // 60, self.window[1] % 60)
        day = now.astimezone(self.tz).date()
        ended = [at for d in (day - timedelta(days=1), day) for at in _reads(d, end, self.tz)
                 if at <= now]
        return ended[-1].astimezone(now.tzinfo)
