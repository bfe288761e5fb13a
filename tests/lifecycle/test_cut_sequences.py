"""Planned cuts: each customer hears what follows from what they were last told, the
window they know, and nothing untrue (a cancellation after they left the area, a move undone,
a return to the area before hearing they left it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, update

from notifier.store import outbox
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cuts
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.notices import recipients
from outages.settings import Settings
from tests.lifecycle.conftest import columns, ids_of
from tests.notices import helpers as h
from tests.notices.test_subscriptions import subscribe

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)
ACT: dict[str, Any] = {"actor": "dispatcher", "source": "cli"}
ACTIVE_OR_SENT = {"pending", "sending", "sent", "delivered"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _area(first: int, last: int, settings: Settings) -> Any:
    return lc.read_area(json.dumps(columns(first, last)), settings)


def _column(engine: Engine, col: int) -> set[int]:
    return ids_of(engine, [f"C{r * 10 + col:03d}" for r in range(10)])


def test_customer_dropped_then_cut_cancelled_hears_nothing(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of the cut, then taken out of the area: the "no longer affected" notice is still
    queued when the cut is cancelled. The customer must hear one of the two."""
    cut = cuts.create(engine, settings, area=_area(0, 2, settings), start=START,
                      end=START + timedelta(hours=4), reason="line work", **ACT)
    col0 = _column(engine, 0)
    h.mark_sent(engine, kind="announcement", customer_ids=sorted(col0), at=NOW)
    cuts.resize(engine, settings, cut_id=cut.id, area=_area(1, 2, settings), **ACT)
    assert {r.customer_id for r in h.rows(engine, kind="no_longer_affected")} == col0
    cuts.cancel(engine, settings, cut_id=cut.id, reason="work not needed", **ACT)
    told_after = {r.customer_id for r in h.rows(engine)
                  if r.customer_id in col0 and r.status in ACTIVE_OR_SENT
                  and r.kind in ("no_longer_affected", "cancelled")}
    assert told_after == col0, "told of the cut, these customers hear neither that they " \
        "left it nor that it was cancelled"


def test_customer_dropped_and_added_back_before_hearing_so_gets_no_second_announcement(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of the cut; a resize takes them out and a second one puts them back before the
    "no longer affected" went out. Nothing changed for them: the "no longer affected" goes,
    and so should any second announcement of the same cut (their reminders stay)."""
    cut = cuts.create(engine, settings, area=_area(0, 2, settings), start=START,
                      end=START + timedelta(hours=4), reason="line work", **ACT)
    col0 = _column(engine, 0)
    h.mark_sent(engine, kind="announcement", customer_ids=sorted(col0), at=NOW)
    cuts.resize(engine, settings, cut_id=cut.id, area=_area(1, 2, settings), **ACT)
    cuts.resize(engine, settings, cut_id=cut.id, area=_area(0, 2, settings), **ACT)
    mine = [r for r in h.rows(engine, channel="sms") if r.customer_id in col0]
    going = sorted({(r.kind, r.revision) for r in mine if r.status in ("pending", "sending")})
    assert ("no_longer_affected", 2) not in going
    assert {k for k, _ in going} == {"reminder"}, going


WATCHER = "+84987000001"


def _announced(engine: Engine, settings: Settings, ids: list[int]) -> int:
    """A cut over `ids`, its announcements (customers' and subscribers') sent."""
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.kind == "announcement")
                     .values(status="sent", sent_at=NOW))
    return outage


def _house_without_a_phone_followed(engine: Engine, settings: Settings,
                                    add_customers: Any) -> int:
    """A cut over three houses, announced to all; the third house has no phone on record
    (the reason a relative subscribes) and its subscriber's announcement went out."""
    add_customers(h.customers(3, district="Dong Da"))
    ids = h.customer_ids(engine)
    with engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(Customer.id == ids[2]).values(phone=None))
    subscribe(engine, WATCHER, code="C0000002")
    return _announced(engine, settings, ids)


def test_subscriber_of_a_house_without_a_phone_told_of_the_cut_hears_it_is_cancelled(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    outage = _house_without_a_phone_followed(engine, settings, add_customers)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        cuts.cancel(engine, settings, cut_id=outage, reason="thời tiết", **ACT)
    to_watcher = {(r.kind, r.status) for r in h.rows(engine, recipient=WATCHER)}
    assert ("cancelled", "pending") in to_watcher, to_watcher


def test_an_earlier_end_is_refused_as_an_extension_and_nobody_is_told_it_takes_longer(
    engine: Engine, settings: Settings, grid: Any, time_machine: Any,
) -> None:
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START,
                      end=START + timedelta(hours=8), reason="line work", **ACT)
    time_machine.move_to(START + timedelta(hours=1), tick=False)
    cuts.start(engine, settings, cut_id=cut.id, at=START, **ACT)
    sooner = START + timedelta(hours=4)  # 14:00 local instead of 18:00
    with pytest.raises(ValidationError) as refused:
        cuts.extend(engine, settings, cut_id=cut.id, end=sooner, **ACT)
    assert refused.value.field == "end"
    assert "2026-12-07 14:00 +07" in str(refused.value) and "cuts restore" in str(refused.value)
    assert h.rows(engine, kind="cut_extended") == []
    later = cuts.extend(engine, settings, cut_id=cut.id, end=START + timedelta(hours=9), **ACT)
    assert later.etr is not None and len(h.rows(engine, kind="cut_extended", channel="sms")) == 10


def test_a_move_undone_before_its_change_notice_went_tells_nobody_the_cut_moved(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of the cut at 7 Dec 10:00; the dispatcher moves it by mistake and moves it back
    a minute later, before the "changed" notice went out. Nothing changed for the customer:
    the first "changed" is skipped, and no notice should say the cut "has moved"."""
    end = START + timedelta(hours=4)
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START, end=end,
                      reason="line work", **ACT)
    col0 = _column(engine, 0)
    h.mark_sent(engine, kind="announcement", customer_ids=sorted(col0), at=NOW)
    wrong = START + timedelta(days=1)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=wrong, end=wrong + timedelta(hours=4),
                    **ACT)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=START, end=end, **ACT)
    going = [r for r in h.rows(engine, channel="sms") if r.status == "pending"]
    kinds = {(r.kind, r.revision) for r in going}
    assert ("changed", 2) not in kinds
    changed = [r.body for r in going if r.kind == "changed"]
    assert changed == [], changed[0]


def test_a_cancellation_names_the_window_the_customer_was_told(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of the cut on 7 Dec; it is moved to 8 Dec and, before the "changed" notice went
    out, cancelled. The "changed" is skipped (right), but the cancellation then speaks of a
    cut on 8 Dec the customer never heard of, leaving the 7 Dec one they know of standing."""
    end = START + timedelta(hours=4)
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START, end=end,
                      reason="line work", **ACT)
    col0 = _column(engine, 0)
    h.mark_sent(engine, kind="announcement", customer_ids=sorted(col0), at=NOW)
    later = START + timedelta(days=1)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=later,
                    end=later + timedelta(hours=4), **ACT)
    cuts.cancel(engine, settings, cut_id=cut.id, reason="work not needed", **ACT)
    assert {r.status for r in h.rows(engine, kind="changed")} == {"skipped"}
    [body, *_] = [r.body for r in h.rows(engine, kind="cancelled", channel="sms")]
    assert "07/12" in body, body


def test_a_customer_last_told_they_left_the_cut_is_not_told_it_moved(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told of the cut, then told they are no longer part of it; a resize puts them back
    (their new announcement still queued) and the cut is then moved. What they last heard
    is "not affected": a "the cut has moved" makes no sense to them; they need the
    announcement of the cut as it now stands."""
    cut = cuts.create(engine, settings, area=_area(0, 2, settings), start=START,
                      end=START + timedelta(hours=4), reason="line work", **ACT)
    col0 = _column(engine, 0)
    h.mark_sent(engine, kind="announcement", customer_ids=sorted(col0), at=NOW)
    cuts.resize(engine, settings, cut_id=cut.id, area=_area(1, 2, settings), **ACT)
    h.mark_sent(engine, kind="no_longer_affected", customer_ids=sorted(col0), at=NOW)
    cuts.resize(engine, settings, cut_id=cut.id, area=_area(0, 2, settings), **ACT)
    later = START + timedelta(days=1)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=later,
                    end=later + timedelta(hours=4), **ACT)
    going = {r.kind for r in h.rows(engine, channel="sms", revision=4)
             if r.customer_id in col0 and r.status == "pending" and r.kind != "reminder"}
    assert going == {"announcement"}, going


def test_subscriber_of_a_house_without_a_phone_hears_the_cut_moved(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    """Told of 7 Dec, the relative must hear the cut moved, not read a plain announcement of
    a cut on 8 Dec as a second cut."""
    outage = _house_without_a_phone_followed(engine, settings, add_customers)
    later = START + timedelta(days=1)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        cuts.reschedule(engine, settings, cut_id=outage, start=later,
                        end=later + timedelta(hours=8), **ACT)
    new = {r.kind for r in h.rows(engine, recipient=WATCHER, revision=2) if r.kind != "reminder"}
    assert new == {"changed"}, new


def test_reworded_cancellation_names_the_end_the_customer_was_told(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    area = lc.read_area(json.dumps(columns(0, 0)), settings)
    cut = cuts.create(engine, settings, area=area, start=START, end=START + timedelta(hours=4),
                      reason="line work", **ACT)
    col0 = sorted(ids_of(engine, [f"C{r * 10:03d}" for r in range(10)]))
    h.mark_sent(engine, kind="announcement", customer_ids=col0, at=NOW)
    cuts.reschedule(engine, settings, cut_id=cut.id, start=START,
                    end=START + timedelta(hours=6), **ACT)
    cuts.cancel(engine, settings, cut_id=cut.id, reason="work not needed", **ACT)
    [row] = [r for r in h.rows(engine, kind="cancelled", channel="sms")
             if r.customer_id == col0[0]]
    assert "14:00" in row.body and "16:00" not in row.body, row.body  # as queued: right
    with time_machine.travel(NOW + timedelta(days=1), tick=False), engine.begin() as conn:
        verdict = recipients.recheck(conn, settings, [row])
    body = verdict.changes[row.id]["body"]
    assert "14:00" in body and "16:00" not in body, body


def test_subscriber_told_by_a_reminder_hears_the_cancellation(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(3, district="Dong Da"))
    ids = h.customer_ids(engine)
    subscribe(engine, WATCHER, code="C0000002")
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    mine = h.rows(engine, recipient=WATCHER)
    assert {r.kind for r in mine} >= {"announcement", "reminder"}, mine
    first_reminder = min(r.id for r in mine if r.kind == "reminder")
    with engine.begin() as conn:
        # The watcher's announcement failed; everything else (and their first reminder) went.
        conn.execute(update(outbox).where(outbox.c.kind == "announcement")
                     .values(status="sent", sent_at=NOW))
        conn.execute(update(outbox).where(outbox.c.kind == "announcement",
                                          outbox.c.recipient == WATCHER)
                     .values(status="failed", sent_at=None))
        conn.execute(update(outbox).where(outbox.c.id == first_reminder)
                     .values(status="sent", sent_at=NOW + timedelta(days=3)))
    with time_machine.travel(NOW + timedelta(days=3, hours=1), tick=False):
        cuts.cancel(engine, settings, cut_id=outage, reason="thời tiết", **ACT)
    to_watcher = {(r.kind, r.status) for r in h.rows(engine, recipient=WATCHER)}
    assert ("cancelled", "pending") in to_watcher, to_watcher


def test_phone_of_a_customer_following_a_neighbour_hears_a_move_once(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(3, district="Dong Da"))
    ids = h.customer_ids(engine)
    phone = "+84900000000"  # customer C0000000's own phone
    with engine.connect() as conn:
        assert conn.execute(Customer.__table__.select().where(Customer.id == ids[0])).one() \
            .phone == phone
    subscribe(engine, phone, code="C0000001")  # follows the parents' house too
    outage = _announced(engine, settings, ids)
    assert [r.kind for r in h.rows(engine, recipient=phone, kind="announcement")] \
        == ["announcement"]
    later = START + timedelta(days=1)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        cuts.reschedule(engine, settings, cut_id=outage, start=later,
                        end=later + timedelta(hours=8), **ACT)
    new = sorted((r.kind, r.subscription_id is not None)
                 for r in h.rows(engine, recipient=phone, revision=2)
                 if r.kind != "reminder" and r.status == "pending")
    assert new == [("changed", False)], new


def test_a_customer_taken_out_when_the_area_is_renamed_hears_of_the_area_they_were_told(
    engine: Engine, settings: Settings, grid: Any,
) -> None:
    """Told "power will be off in Dong Da"; the area is redrawn over Ba Dinh only (renamed
    so) and they are taken out. "You are no longer part of the power cut in Ba Dinh" speaks
    of a cut they never heard of and leaves the Dong Da one standing: it must name Dong Da,
    as queued and as worded again the next day."""
    cut = cuts.create(engine, settings, area=_area(0, 0, settings), start=START,
                      end=START + timedelta(hours=4), reason="line work", **ACT)
    col0 = sorted(_column(engine, 0))
    [told] = {r.body for r in h.rows(engine, kind="announcement", channel="sms")}
    assert " Dong Da " in told, told
    h.mark_sent(engine, kind="announcement", customer_ids=col0, at=NOW)
    cuts.resize(engine, settings, cut_id=cut.id, area=_area(1, 1, settings), **ACT)
    gone = [r for r in h.rows(engine, kind="no_longer_affected", channel="sms")]
    assert {r.customer_id for r in gone} == set(col0)
    assert all(" Dong Da " in r.body and "Ba Dinh" not in r.body for r in gone), gone[0].body
    with time_machine.travel(NOW + timedelta(days=1), tick=False), engine.begin() as conn:
        verdict = recipients.recheck(conn, settings, gone[:1])
    body = verdict.changes[gone[0].id]["body"]
    assert " Dong Da " in body and "Ba Dinh" not in body, body

