from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.quiet import QuietHours, defer, inside

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (21 * 60, 7 * 60)


def _utc(text: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def test_inside_quiet_hours_waits_for_their_end() -> None:
    due = _utc("2026-12-01 22:30", HANOI)
    assert defer(due, HANOI, WINDOW) == _utc("2026-12-02 07:00", HANOI)
    early = _utc("2026-12-02 05:00", HANOI)
    assert defer(early, HANOI, WINDOW) == _utc("2026-12-02 07:00", HANOI)


def test_outside_quiet_hours_and_disabled_window_send_when_due() -> None:
    due = _utc("2026-12-01 20:59", HANOI)
    assert defer(due, HANOI, WINDOW) == due
    assert defer(_utc("2026-12-01 23:00", HANOI), HANOI, None) == _utc("2026-12-01 23:00", HANOI)


def test_waiting_would_be_late_for_the_cut_so_it_goes_at_once() -> None:
    due = _utc("2026-12-02 05:00", HANOI)  # 2h reminder for a 07:00 cut
    assert defer(due, HANOI, WINDOW, deadline=_utc("2026-12-02 07:00", HANOI)) == due
    assert defer(due, HANOI, WINDOW, deadline=_utc("2026-12-02 08:00", HANOI)) == \
        _utc("2026-12-02 07:00", HANOI)


def test_dst_night_in_berlin_wakes_at_local_seven() -> None:
    # 2026-10-25: clocks go back at 03:00; the night is 25 hours long.
    due = _utc("2026-10-24 22:00", BERLIN)
    woke = defer(due, BERLIN, WINDOW)
    assert woke.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %z") == "2026-10-25 07:00 +0100"
    assert woke - due == timedelta(hours=10)
    spring = defer(_utc("2026-03-28 23:00", BERLIN), BERLIN, WINDOW)  # clocks jump forward
    assert spring.astimezone(BERLIN).strftime("%H:%M %z") == "07:00 +0200"


def test_the_worker_holds_until_the_window_ends_across_a_clock_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # clocks go from 02:00 to 03:00 on 29 March 2026
    hours = QuietHours(berlin, (21 * 60, 7 * 60))
    night = datetime(2026, 3, 28, 23, 0, tzinfo=berlin).astimezone(UTC)
    morning = datetime(2026, 3, 29, 7, 0, tzinfo=berlin).astimezone(UTC)
    assert morning == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # summer time: UTC+2
    assert hours.hold_until(night) == morning
    assert hours.hold_until(night, deadline=morning) is None  # would be too late
    assert hours.hold_until(morning) is None
    assert hours.last_end(morning + timedelta(hours=1)) == morning
    assert hours.last_end(morning - timedelta(minutes=1)) == datetime(2026, 3, 28, 6, 0,
                                                                      tzinfo=UTC)


NEW_YORK = ZoneInfo("America/New_York")
ZONES = (HANOI, BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe"))  # a 30-minute change too


# The 2026 clock changes (UTC) of the zones above, where the window's end may be skipped
# or shown twice.
CHANGES = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
           datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
           datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)]


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(zone=st.sampled_from(ZONES), change=st.sampled_from(CHANGES),
       seconds=st.integers(-12 * 3600, 12 * 3600),
       start=st.integers(0, 24 * 60 - 1), end_near=st.integers(-150, 150))
def test_a_held_notice_goes_when_the_local_clock_first_leaves_the_window(
        zone: ZoneInfo, change: datetime, seconds: int, start: int, end_near: int) -> None:
    """Whatever the zone, the window and the night (clocks going back or forward): a notice
    due inside the window goes at the first minute after it whose local clock is outside,
    never before it was due; the last end is the latest such moment not after it."""
    due = change + timedelta(seconds=seconds)
    local_change = change.astimezone(zone)
    end = (local_change.hour * 60 + local_change.minute + end_near) % (24 * 60)
    window = (start, end)
    wake = defer(due, zone, window)
    if start == end or not inside(due.astimezone(zone), window):
        assert wake == due
        return
    before = wake - timedelta(seconds=1)
    jumped = (wake.astimezone(zone).replace(tzinfo=None)
              - before.astimezone(zone).replace(tzinfo=None)) > timedelta(seconds=1)
    # Outside the window then, or the clocks jumped over its end (a window leaving out only
    # a minute the clocks skip has no outside that night: the jump is its end).
    assert wake > due and (not inside(wake.astimezone(zone), window) or jumped)
    assert inside(before.astimezone(zone), window)
    assert QuietHours(zone, window).last_end(wake) == wake
