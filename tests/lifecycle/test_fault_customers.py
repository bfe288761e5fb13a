"""Fault incidents and their restoration as customers and dispatchers see them: "power is
back" only when it is, no stale ETR, no contradicting notice, one report per caller."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from notifier.store import outbox
from outages.errors import Conflict
from outages.lifecycle import faults
from outages.models import Interruption
from outages.notices import recipients
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns, ids_of
from tests.lifecycle.test_cuts_create import area
from tests.lifecycle.test_faults import ACT, report


def _rows(engine: Engine, kind: str, customer_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox).where(
            outbox.c.kind == kind, outbox.c.customer_id == customer_id)).all())


def test_power_is_back_not_told_while_still_out_in_another_incident(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """C001 (column 1) is out in two incidents at once; the first one's restoration must
    not tell them power is back while the second still has them out."""
    a = report(engine, settings, customer="C000")
    b = report(engine, settings, point=(LON0 + 0.05, LAT0))  # far away: its own incident
    assert a.outage_id != b.outage_id
    started = ahead(minutes=-60)
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=started, **ACT)
    faults.confirm(engine, settings, fault_id=b.outage_id, area=area(columns(1, 2), settings),
                   started_at=started, **ACT)
    faults.restore(engine, settings, fault_id=a.outage_id, at=None, **ACT)
    (c001,) = ids_of(engine, ["C001"])
    with engine.connect() as conn:  # still out in incident b
        open_b = conn.execute(select(Interruption.end_at).where(
            Interruption.outage_id == b.outage_id, Interruption.customer_id == c001)).all()
    assert open_b == [(None,)]
    told_back = [r for r in _rows(engine, "restored", c001) if r.status == "pending"]
    assert told_back == [], "C001 is told power is back while still out in incident b"


def test_power_is_back_queued_before_another_incident_took_them_out_is_not_sent(
        engine: Engine, settings: Settings, grid: Any) -> None:
    a = report(engine, settings, customer="C000")
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 0), settings),
                   started_at=ahead(minutes=-60), **ACT)
    faults.restore(engine, settings, fault_id=a.outage_id, at=None, **ACT)
    (c000,) = ids_of(engine, ["C000"])
    [back] = [r for r in _rows(engine, "restored", c000) if r.status == "pending"]
    b = report(engine, settings, point=(LON0 + 0.05, LAT0))
    faults.confirm(engine, settings, fault_id=b.outage_id, area=area(columns(0, 0), settings),
                   started_at=ahead(minutes=-1), **ACT)
    with engine.connect() as conn:
        assert recipients.untrue(conn, [back]) == {back.id: recipients.OUT_ELSEWHERE}


def test_a_redraw_leaving_nobody_out_is_refused_and_the_incident_stays_restorable(
        engine: Engine, settings: Settings, grid: Any) -> None:
    a = report(engine, settings, customer="C000")
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-60), **ACT)
    faults.restore(engine, settings, fault_id=a.outage_id, at=ahead(minutes=-10),
                   area=area(columns(0, 0), settings), **ACT)
    with pytest.raises(Conflict) as refused:
        faults.resize(engine, settings, fault_id=a.outage_id,
                      area=area(columns(0, 0), settings), **ACT)
    assert refused.value.field == "area" and "faults restore" in str(refused.value)
    done = faults.restore(engine, settings, fault_id=a.outage_id, at=None, **ACT)
    assert (done.status, done.remaining) == ("restored", 0)


def test_acknowledgement_does_not_state_an_etr_already_past(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """An ETR given while the incident was only reported has passed by the time it is
    confirmed: the acknowledgement must not tell customers power is expected back at a time
    already gone."""
    import time_machine

    a = report(engine, settings, customer="C000")
    etr = ahead(minutes=30)
    faults.set_etr(engine, settings, fault_id=a.outage_id, at=etr, **ACT)
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=True):
        faults.confirm(engine, settings, fault_id=a.outage_id,
                       area=area(columns(0, 1), settings), **ACT)
        now = utcnow()
    (c001,) = ids_of(engine, ["C001"])
    [ack] = _rows(engine, "fault_ack", c001)
    assert ack.ref_at is None or ack.ref_at > now, (
        f"acknowledgement sent at {ack.due_at} states ETR {ack.ref_at}: {ack.body}")


def test_redrawing_back_over_restored_customers_does_not_cut_them_again(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """Column 0 got power back at a step; the area is then redrawn without it and, the
    dispatcher correcting that, with it again. Column 0 had one interruption, already
    ended: it must not get a second one from the incident's start (overlapping the first,
    counted twice and open although they have power), nor a second acknowledgement."""
    a = report(engine, settings, customer="C000")
    started = ahead(minutes=-60)
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=started, **ACT)
    back = ahead(minutes=-10)
    faults.restore(engine, settings, fault_id=a.outage_id, at=back,
                   area=area(columns(0, 0), settings), **ACT)
    faults.resize(engine, settings, fault_id=a.outage_id, area=area(columns(1, 1), settings),
                  **ACT)
    view = faults.resize(engine, settings, fault_id=a.outage_id,
                         area=area(columns(0, 1), settings), **ACT)
    (c000,) = ids_of(engine, ["C000"])
    with engine.connect() as conn:
        spans = conn.execute(select(Interruption.start_at, Interruption.end_at).where(
            Interruption.outage_id == a.outage_id, Interruption.customer_id == c000)
            .order_by(Interruption.id)).all()
    assert spans == [(started, back)], f"C000's interruptions now {spans}"
    assert view.remaining == 10
    assert len(_rows(engine, "fault_ack", c000)) == 1


def test_a_customer_already_restored_is_not_told_they_were_never_in_the_incident(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """Column 0 heard the acknowledgement, then got power back at a step ("power is back").
    Redrawing the area without column 0 afterwards (they are no longer out) must not tell
    them their address is not in the incident's area: they were, and were told so."""
    from sqlalchemy import update

    a = report(engine, settings, customer="C000")
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-60), **ACT)
    with engine.begin() as conn:  # the acknowledgement reached everyone
        conn.execute(update(outbox).where(outbox.c.kind == "fault_ack")
                     .values(status="sent", sent_at=utcnow()))
    faults.restore(engine, settings, fault_id=a.outage_id, at=ahead(minutes=-10),
                   area=area(columns(0, 0), settings), **ACT)
    faults.resize(engine, settings, fault_id=a.outage_id, area=area(columns(1, 1), settings),
                  **ACT)
    (c010,) = ids_of(engine, ["C010"])
    assert [r.status for r in _rows(engine, "restored", c010)] == ["pending"]
    contradicting = _rows(engine, "fault_not_affected", c010)
    assert contradicting == [], contradicting[0].body


def test_a_caller_without_an_account_calling_again_is_counted_not_repeated(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """A caller with no account rings twice about the same outage: one report counted twice,
    and one "report received" text, as for a customer with an account."""
    place = (LON0 + 0.0065, LAT0)
    first = report(engine, settings, phone="+84912345678", point=place, text="mất điện")
    again = report(engine, settings, phone="+84912345678", point=place, text="vẫn mất điện")
    assert again.outage_id == first.outage_id
    with engine.connect() as conn:
        received = conn.execute(select(outbox.c.key).where(
            outbox.c.kind == "fault_report_received",
            outbox.c.recipient == "+84912345678")).scalars().all()
    assert (again.report_id, again.reports, len(received)) == (first.report_id, 2, 1), received


def test_a_future_restoration_time_is_refused_in_local_time(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """The dispatcher typed local time; the refusal must show it as local time (as every
    other refusal does, e.g. "not in the future" for an ETR), not in UTC."""
    from outages.errors import ValidationError
    from outages.timeutil import show_local

    a = report(engine, settings, customer="C000")
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-60), **ACT)
    later = ahead(hours=2)
    with pytest.raises(ValidationError) as refused:
        faults.restore(engine, settings, fault_id=a.outage_id, at=later, **ACT)
    assert show_local(later, settings.tz) in str(refused.value), str(refused.value)


def test_a_caller_without_an_account_inside_the_area_hears_power_is_back(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """A tenant calls from an unregistered phone, at a place inside the incident; a caller
    far outside it is asked to reply instead. Restored, each hears what is true for them."""
    inside = report(engine, settings, phone="+84912345678", point=(LON0 + 0.0005, LAT0))
    far = report(engine, settings, phone="+84912345679", point=(LON0 + 0.004, LAT0))
    assert far.outage_id == inside.outage_id
    faults.confirm(engine, settings, fault_id=inside.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(minutes=-30), **ACT)
    faults.restore(engine, settings, fault_id=inside.outage_id, at=None, **ACT)
    with engine.connect() as conn:
        told = {(row.recipient, row.kind) for row in conn.execute(select(outbox).where(
            outbox.c.customer_id.is_(None), outbox.c.status == "pending"))}
    assert told == {("+84912345678", "restored"), ("+84912345679", "report_unresolved")}
