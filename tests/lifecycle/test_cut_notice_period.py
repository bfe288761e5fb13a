"""Planned cuts: the legal notice period kept from when customers are told (quiet hours
never hold an announcement into it; a priority customer's longer notice counts from the
morning), for customers a later date takes in too; a reminder is not sent right after its
announcement; what each was told stays what later notices name (a reminder counts, a
dropped customer and a reworded cancellation name the window they knew, a renamed area)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from notifier.store import outbox
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cuts
from outages.models import Customer
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0, columns, ids_of
from tests.lifecycle.test_cut_sequences import (  # noqa: F401 (_frozen: autouse)
    ACT,
    NOW,
    START,
    _area,
    _column,
    _frozen,
)
from tests.notices import helpers as h


def test_later_reschedule_adding_customers_keeps_the_notice_period(
    engine: Engine, settings: Settings, grid: Any, add_customers: Any,
) -> None:
    """Three days after a cut was announced, a customer connected in the area since then
    (a new registry import) is added when the cut is moved a day later. The new start is
    only 4 days away: that customer hears of it with less than the 5-day notice period.
    A resize adding the same customer is refused; the reschedule must be refused too
    (or ask for urgency)."""
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START,
                      end=START + timedelta(hours=4), reason="line work", **ACT)
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        add_customers([{"code": "NEW1", "lon": LON0, "lat": LAT0 + 0.0001, "feeder": "F1",
                        "district": "Dong Da", "phone": "+84911111111"}])
        later = START + timedelta(days=1)
        try:
            cuts.reschedule(engine, settings, cut_id=cut.id, start=later,
                            end=later + timedelta(hours=4), **ACT)
        except ValidationError:
            return  # refused, as a resize adding them is: right
    new = ids_of(engine, ["NEW1"])
    told = [r for r in h.rows(engine, channel="sms") if r.customer_id in new
            and r.kind == "announcement"]
    assert told, "the new customer is not told at all"
    notice = [later - r.due_at for r in told]
    assert all(n >= settings.planned.min_notice for n in notice), \
        f"the new customer is told {notice[0]} ahead of a cut starting {later}"


def test_customer_who_heard_only_a_reminder_hears_of_the_cancellation(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """An urgent cut: the announcement to a customer failed (retries exhausted), the
    reminder two hours before reached them. They know of the cut from the reminder (it
    names the area, the window and the reason); cancelled afterwards, the cut must be
    called off for them too, or they prepare for a cut that never comes."""
    start = NOW + timedelta(hours=6)
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=start,
                      end=start + timedelta(hours=2), reason="urgent repair", urgent=True,
                      urgent_reason="transformer overheating", **ACT)
    col0 = sorted(_column(engine, 0))
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.kind == "announcement")
                     .values(status="failed", attempts=8))
    h.mark_sent(engine, kind="reminder", customer_ids=col0, at=start - timedelta(hours=2))
    with time_machine.travel(start - timedelta(hours=1), tick=False):
        cuts.cancel(engine, settings, cut_id=cut.id, reason="repair not needed", **ACT)
    cancelled = {r.customer_id for r in h.rows(engine, kind="cancelled", channel="sms")}
    assert cancelled == set(col0), f"{len(cancelled)} of {len(col0)} told of the cancellation"


def test_customer_dropped_by_a_move_is_told_about_the_window_they_knew(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of the cut on 7 Dec; the customer's connection ends on 8 Dec and the cut moves
    to 8 Dec, so they drop out. Their "no longer affected" names the 8 Dec window they never
    heard of, leaving the 7 Dec cut they know of standing for them."""
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START,
                      end=START + timedelta(hours=4), reason="line work", **ACT)
    col0 = sorted(_column(engine, 0))
    h.mark_sent(engine, kind="announcement", customer_ids=col0, at=NOW)
    leaving = col0[0]
    later = START + timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(Customer.id == leaving)
                     .values(disconnected_on=later.astimezone(settings.tz).date()))
    cuts.reschedule(engine, settings, cut_id=cut.id, start=later,
                    end=later + timedelta(hours=4), **ACT)
    [row] = [r for r in h.rows(engine, kind="no_longer_affected", channel="sms")
             if r.customer_id == leaving]
    assert "07/12" in row.body, row.body


def test_urgent_cut_created_at_night_sends_no_reminder_right_after_its_announcement(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """At 22:00 an urgent cut is set for 09:30 the next morning. The announcement waits for
    the end of quiet hours (07:00); the 2-hour reminder is due at 07:30. A reminder that
    would come with or after the announcement is meant to be dropped: customers get the
    same cut twice, half an hour apart."""
    night = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    start = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)  # 09:30 in Hanoi next day
    with time_machine.travel(night, tick=False):
        cuts.create(engine, settings, area=_area(0, 0, settings), start=start,
                    end=start + timedelta(hours=2), reason="urgent repair", urgent=True,
                    urgent_reason="transformer overheating", **ACT)
    customer = min(_column(engine, 0))
    mine = [(r.kind, r.due_at.astimezone(settings.tz).strftime("%H:%M"))
            for r in h.rows(engine, channel="sms", customer_id=customer)
            if r.status == "pending"]
    assert [k for k, _ in mine].count("announcement") == 1
    assert "reminder" not in [k for k, _ in mine], mine


def _named(first: int, last: int, name: str, settings: Settings) -> Any:
    feature = {"type": "Feature", "properties": {"name": name},
               "geometry": columns(first, last)}
    return lc.read_area(json.dumps(feature), settings)


def test_reminders_name_the_area_as_the_cut_now_stands(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """The dispatcher redraws the cut and corrects its name (the first was the wrong ward).
    The customers added hear of the cut in "Phuong Thanh Cong"; their neighbours, in it
    from the start, are still reminded of a cut in "Phuong Lang Ha": one cut, one street,
    two places named the day before."""
    cut = cuts.create(engine, settings, area=_named(0, 1, "Phuong Lang Ha", settings),
                      start=START, end=START + timedelta(hours=4), reason="line work", **ACT)
    h.mark_sent(engine, kind="announcement", customer_ids=sorted(_column(engine, 0)), at=NOW)
    cuts.resize(engine, settings, cut_id=cut.id,
                area=_named(0, 2, "Phuong Thanh Cong", settings), **ACT)
    stale = {r.body for r in h.rows(engine, kind="reminder", channel="sms", status="pending")
             if "Lang Ha" in r.body}
    assert not stale, sorted(stale)[0]


def test_a_cancellation_sent_next_day_still_names_the_window_the_customer_was_told(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of 7 Dec; moved to 8 Dec and cancelled before the "changed" went out: the
    cancellation is queued naming 7 Dec (right). Sent on another local day (a worker down
    overnight), or after the customer switched to English, it is worded again at send
    time, and then names the 8 Dec window the customer never heard of."""
    from outages.notices import recipients

    end = START + timedelta(hours=4)
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START, end=end,
                      reason="line work", **ACT)
    col0 = sorted(_column(engine, 0))
    h.mark_sent(engine, kind="announcement", customer_ids=col0, at=NOW)
    later = START + timedelta(days=1)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=later,
                    end=later + timedelta(hours=4), **ACT)
    cuts.cancel(engine, settings, cut_id=cut.id, reason="work not needed", **ACT)
    [row] = [r for r in h.rows(engine, kind="cancelled", channel="sms")
             if r.customer_id == col0[0]]
    assert "07/12" in row.body  # as queued
    with time_machine.travel(NOW + timedelta(days=1), tick=False), engine.begin() as conn:
        verdict = recipients.recheck(conn, settings, [row])
    body = verdict.changes[row.id]["body"]
    assert "07/12" in body, body


def test_a_cut_created_in_the_evening_is_announced_with_the_full_notice_period(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """At 22:00 the dispatcher schedules a cut at the earliest start the rules allow, five
    days ahead (check_notice counts from now). The announcement is then held for the end of
    quiet hours, 07:00: customers are told 4 days 15 hours ahead, short of the legal 5
    days (Circular 22/2020/TT-BCT), with nothing telling the dispatcher."""
    from outages.lifecycle import cut_rules

    evening = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    with time_machine.travel(evening, tick=False):
        start = cut_rules.earliest_start(settings)
        cuts.create(engine, settings, area=_area(0, 0, settings), start=start,
                    end=start + timedelta(hours=4), reason="line work", **ACT)
    due = {r.due_at for r in h.rows(engine, kind="announcement", channel="sms")}
    notice = start - max(due)
    assert notice >= settings.planned.min_notice, \
        f"announced {notice} ahead (due {max(due).astimezone(settings.tz)})"


def test_priority_customer_in_a_cut_created_in_the_evening_gets_the_priority_notice(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """As above for a hospital in the area: a start 7 days after 22:00, the priority minimum
    counted from the typing, is refused (their announcement waits for the morning); the
    earliest start offered keeps the 7 days from when they are told."""
    from outages.lifecycle import cut_rules

    with engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(Customer.code == "C000")
                     .values(priority="life_support"))
    evening = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    needed = settings.planned.priority_min_notice
    with time_machine.travel(evening, tick=False):
        too_soon = lc.ceil_minute(evening + needed)
        with pytest.raises(ValidationError) as refused:
            cuts.create(engine, settings, area=_area(0, 0, settings), start=too_soon,
                        end=too_soon + timedelta(hours=4), reason="line work", **ACT)
        assert "after quiet hours" in str(refused.value)
        start = lc.ceil_minute(cut_rules.announced_at(
            settings, evening, evening + needed, urgent=False) + needed)
        cuts.create(engine, settings, area=_area(0, 0, settings), start=start,
                    end=start + timedelta(hours=4), reason="line work", **ACT)
    [hospital] = ids_of(engine, ["C000"])
    [row] = [r for r in h.rows(engine, kind="announcement", channel="sms")
             if r.customer_id == hospital]
    notice = start - row.due_at
    assert notice >= needed, f"announced {notice} ahead"


def test_a_cut_moved_earlier_in_the_evening_keeps_the_notice_period_for_those_told(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Customers told of a cut six days ahead; at 22:00 the dispatcher moves it to the
    earliest start the rules allow (five days from now). Their change notice is held by
    quiet hours until 07:00: they learn of the earlier start 4 days 15 hours ahead, short
    of the legal 5 days, though the move was accepted without urgency."""
    from outages.lifecycle import cut_rules

    late = START + timedelta(days=2)
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=late,
                      end=late + timedelta(hours=4), reason="line work", **ACT)
    col0 = sorted(_column(engine, 0))
    h.mark_sent(engine, kind="announcement", customer_ids=col0, at=NOW)
    evening = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    with time_machine.travel(evening, tick=False):
        start = cut_rules.earliest_start(settings)
        cuts.reschedule(engine, settings, cut_id=cut.id, start=start,
                        end=start + timedelta(hours=4), **ACT)
    due = {r.due_at for r in h.rows(engine, kind="changed", channel="sms")}
    assert due, "those told are not told of the move"
    notice = start - max(due)
    assert notice >= settings.planned.min_notice, \
        f"told of the earlier start {notice} ahead (due {max(due).astimezone(settings.tz)})"


def test_an_urgent_cut_postponed_takes_in_a_new_hospital_as_a_resize_would(
    engine: Engine, settings: Settings, grid: Any, add_customers: Any,
) -> None:
    """An urgent cut two days ahead; a clinic connected in its area since. Redrawing the
    area to take it in is accepted (the cut is urgent), and postponing the cut a day takes
    it in too, with the ordinary customers it adds accepted for the same reason: the
    clinic must not make the postponement ask for urgency once more."""
    start = NOW + timedelta(days=2)
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=start,
                      end=start + timedelta(hours=4), reason="urgent repair", urgent=True,
                      urgent_reason="transformer overheating", **ACT)
    add_customers([{"code": "CLINIC", "lon": LON0, "lat": LAT0 + 0.0001, "feeder": "F1",
                    "district": "Dong Da", "phone": "+84911111112", "priority": "medical"}])
    later = start + timedelta(days=1)
    moved = cuts.reschedule(engine, settings, cut_id=cut.id, start=later,
                            end=later + timedelta(hours=4), **ACT)
    assert moved.change is not None and moved.change.added == 1
    assert moved.warnings and moved.warnings[0].code == "priority"  # the call list says so
