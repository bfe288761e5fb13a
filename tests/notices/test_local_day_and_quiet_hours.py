"""Local days and quiet hours on the nights clocks change: a 25-hour day is counted whole,
and a window ending in the repeated or the skipped hour ends when the clock leaves it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import time_machine
from sqlalchemy import Engine, insert

from notifier import quiet
from notifier.store import outbox
from outages import timeutil
from outages.notices import dashboard

BERLIN = timeutil.zone("Europe/Berlin")
NEW_YORK = timeutil.zone("America/New_York")


def test_delivery_rate_today_covers_the_whole_25_hour_local_day(engine: Engine,
                                                                 make_settings: Any) -> None:
    """Berlin, 2026-10-25 (clocks go back: the local day has 25 hours). At 23:30 local a
    notice sent at 23:15 local the same day counts in "today's delivery rate"."""
    settings = make_settings(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    sent_at = datetime(2026, 10, 25, 22, 15, tzinfo=UTC)  # 23:15 CET, 25 Oct
    with engine.begin() as conn:
        conn.execute(insert(outbox), [{
            "key": "k1", "kind": "announcement", "channel": "sms",
            "recipient": "+84912000001", "language": "vi", "due_at": sent_at,
            "status": "sent"}])
    with time_machine.travel(datetime(2026, 10, 25, 22, 30, tzinfo=UTC), tick=False):
        assert sent_at.astimezone(BERLIN).date() == date(2026, 10, 25)
        with engine.connect() as conn:
            shown = dashboard.overview(conn, settings, contacts=False)
    assert shown.delivered_today == 1


def test_quiet_hours_never_release_a_notice_before_it_is_due() -> None:
    """Quiet hours 23:00-01:30 in New York on the night clocks go back (1 Nov 2026, 01:00-
    01:59 happens twice). A notice due at 01:00 EST (06:00Z, the second 01:00, clock inside the
    window) waits for the second 01:30 (EST), not the first (EDT), which is half an hour
    before it was due."""
    due = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    window = (23 * 60, 90)
    assert quiet.inside(due.astimezone(NEW_YORK), window)
    wake = quiet.defer(due, NEW_YORK, window)
    assert wake >= due, f"deferred to {wake.astimezone(NEW_YORK)}, before due {due}"
    held = quiet.QuietHours(NEW_YORK, window).hold_until(due)
    assert held is not None, "worker claims it at 01:00 (inside the window) and sends it now"


def test_quiet_hours_ending_in_the_spring_gap_end_when_the_clock_passes_it() -> None:
    """Quiet hours 22:00-02:30 in New York on 8 Mar 2026 (02:00 EST jumps to 03:00 EDT).
    A notice due at 01:50 EST goes when the window is over: 03:00 EDT (07:00Z), when the
    clock jumps past the 02:30 it never shows."""
    due = datetime(2026, 3, 8, 6, 50, tzinfo=UTC)  # 01:50 EST
    wake = quiet.defer(due, NEW_YORK, (22 * 60, 150))
    assert wake == datetime(2026, 3, 8, 7, 0, tzinfo=UTC), wake.astimezone(NEW_YORK)
