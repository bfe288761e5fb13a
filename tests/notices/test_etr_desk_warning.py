"""The dispatch desk is warned `faults.etr_warn_before` ahead of an incident's ETR while
customers are still out: once per ETR, by signed webhook and by email; a new ETR replaces the
warning, a restoration or an ETR set inside the window needs none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.lifecycle import fault_reports, faults
from outages.notices import delivery
from outages.notices.desk import ETR_PASSING
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0, grid_rows
from tests.notices import helpers as h
from tests.notices.conftest import DESK_SECRET
from tests.support.smtp_server import SmtpServer
from tests.support.webhook_server import WebhookReceiver

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
ETR = NOW + timedelta(hours=2)  # 12:00 in Hanoi
DESK = "dispatch@utility.test"
ACT: dict[str, Any] = {"actor": "desk", "source": "cli"}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk_settings(make_settings: Callable[..., Settings], receiver: WebhookReceiver,
                  smtp: SmtpServer) -> Settings:
    return make_settings(
        OUTAGES_ALERTS_WEBHOOK_URL=receiver.url, OUTAGES_ALERTS_WEBHOOK_SECRET=DESK_SECRET,
        OUTAGES_ALERTS_EMAIL=DESK, OUTAGES_SMTP_HOST="127.0.0.1",
        OUTAGES_SMTP_PORT=str(smtp.port), OUTAGES_SMTP_FROM="notices@utility.test",
        OUTAGES_SMTP_STARTTLS="false", OUTAGES_NOTICES_CHANNELS="email")


def _drain(engine: Engine, settings: Settings) -> None:
    now = datetime.now(UTC)
    dispatcher = delivery.dispatcher(engine, settings, clock=lambda: now, concurrency=2)
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()


def _incident(engine: Engine, settings: Settings, etr: datetime) -> int:
    report = fault_reports.report(engine, settings, point=(LON0, LAT0), **ACT)
    faults.confirm(engine, settings, fault_id=report.outage_id, feeders=["F1"],
                   cause="weather", started_at=NOW - timedelta(minutes=30), **ACT)
    faults.set_etr(engine, settings, fault_id=report.outage_id, at=etr, **ACT)
    return report.outage_id


def _desk_rows(engine: Engine) -> list[tuple[str, str, datetime]]:
    return sorted((r.channel, r.status, r.due_at) for r in h.rows(engine, kind=ETR_PASSING))


def test_the_desk_hears_once_before_the_etr_passes(
        engine: Engine, desk_settings: Settings, add_customers: Any,
        receiver: WebhookReceiver, smtp: SmtpServer, clock: time_machine.Traveller) -> None:
    add_customers(grid_rows(5))
    fault = _incident(engine, desk_settings, ETR)
    warn_at = ETR - timedelta(minutes=15)
    clock.move_to(warn_at - timedelta(minutes=1))
    _drain(engine, desk_settings)
    assert receiver.accepted == []
    clock.move_to(warn_at + timedelta(seconds=30))
    _drain(engine, desk_settings)
    clock.move_to(ETR + timedelta(hours=1))
    _drain(engine, desk_settings)

    [warning] = receiver.accepted
    assert warning.signature_ok
    assert warning.payload == {"event": "etr_passing", "incident": {
        "id": fault, "area_name": warning.payload["incident"]["area_name"],
        "etr": "2026-12-01T12:00:00+07:00", "warn_before_minutes": 15}}
    [mail] = [m for m in smtp.messages if m["To"] == DESK]
    assert str(mail["Subject"]).startswith(
        f"Còn 15 phút đến giờ dự kiến có điện, khách hàng vẫn mất điện: sự cố {fault}")
    assert "12:00" in mail.get_body(("plain",)).get_content()
    assert _desk_rows(engine) == [("email", "sent", warn_at), ("webhook", "sent", warn_at)]


def test_a_new_etr_replaces_the_warning(
        engine: Engine, desk_settings: Settings, add_customers: Any,
        receiver: WebhookReceiver, clock: time_machine.Traveller) -> None:
    add_customers(grid_rows(5))
    fault = _incident(engine, desk_settings, ETR)
    clock.move_to(NOW + timedelta(minutes=30))
    later = ETR + timedelta(hours=1)
    faults.set_etr(engine, desk_settings, fault_id=fault, at=later, **ACT)
    clock.move_to(ETR)  # the first ETR's warning time has gone by
    _drain(engine, desk_settings)
    assert receiver.accepted == []
    clock.move_to(later - timedelta(minutes=10))
    _drain(engine, desk_settings)
    assert [r.payload["incident"]["etr"] for r in receiver.accepted] == [
        "2026-12-01T13:00:00+07:00"]
    assert [(c, s) for c, s, _ in _desk_rows(engine)] == [
        ("email", "sent"), ("email", "skipped"), ("webhook", "sent"), ("webhook", "skipped")]


def test_an_etr_moved_and_moved_back_is_warned_of_again(
        engine: Engine, desk_settings: Settings, add_customers: Any,
        receiver: WebhookReceiver, clock: time_machine.Traveller) -> None:
    add_customers(grid_rows(5))
    fault = _incident(engine, desk_settings, ETR)
    clock.move_to(NOW + timedelta(minutes=5))
    faults.set_etr(engine, desk_settings, fault_id=fault, at=ETR + timedelta(hours=1), **ACT)
    clock.move_to(NOW + timedelta(minutes=6))  # a typo corrected: back to 12:00
    faults.set_etr(engine, desk_settings, fault_id=fault, at=ETR, **ACT)
    clock.move_to(ETR - timedelta(minutes=10))
    _drain(engine, desk_settings)
    assert [r.payload["incident"]["etr"] for r in receiver.accepted] == [
        "2026-12-01T12:00:00+07:00"]


def test_no_warning_once_power_is_back_or_for_an_etr_inside_the_window(
        engine: Engine, desk_settings: Settings, add_customers: Any,
        receiver: WebhookReceiver, clock: time_machine.Traveller) -> None:
    add_customers(grid_rows(5))
    fault = _incident(engine, desk_settings, ETR)
    clock.move_to(NOW + timedelta(minutes=20))
    faults.restore(engine, desk_settings, fault_id=fault, at=None, **ACT)
    clock.move_to(ETR)
    _drain(engine, desk_settings)
    assert receiver.accepted == []
    assert {s for _, s, _ in _desk_rows(engine)} == {"skipped"}

    soon = _incident(engine, desk_settings, ETR + timedelta(minutes=10))
    assert soon != fault
    clock.move_to(ETR + timedelta(hours=1))
    _drain(engine, desk_settings)
    assert receiver.accepted == []
    assert len(_desk_rows(engine)) == 2  # only the restored incident's, skipped


LATE = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 22:30 in Hanoi


def test_a_warning_due_after_midnight_names_the_etr_as_today(
        engine: Engine, desk_settings: Settings, add_customers: Any,
        smtp: SmtpServer) -> None:
    """An incident at night with an ETR after midnight: the warning goes out at 01:45 on the
    ETR's own day, so the ETR is "today" then, not "tomorrow" as it was when it was set."""
    add_customers(grid_rows(5))
    etr = LATE + timedelta(hours=3, minutes=30)  # 02:00 in Hanoi, the next day
    with time_machine.travel(LATE, tick=False) as clock:
        report = fault_reports.report(engine, desk_settings, point=(LON0, LAT0), **ACT)
        faults.confirm(engine, desk_settings, fault_id=report.outage_id, feeders=["F1"],
                       cause="weather", started_at=LATE - timedelta(minutes=30), **ACT)
        faults.set_etr(engine, desk_settings, fault_id=report.outage_id, at=etr, **ACT)
        clock.move_to(etr - timedelta(minutes=14))
        _drain(engine, desk_settings)
    [mail] = [m for m in smtp.messages if m["To"] == DESK]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "02:00 hôm nay" in text and "02:00 hôm nay" in html, text


def test_a_warning_sent_after_midnight_it_was_due_before_still_goes_out(
        engine: Engine, desk_settings: Settings, add_customers: Any,
        smtp: SmtpServer) -> None:
    """Due at 23:50, sent at 00:01 (a worker restarting, a retry): a notice worded for
    another day is worded again, and the desk's warning must survive that."""
    add_customers(grid_rows(5))
    etr = LATE + timedelta(hours=1, minutes=35)  # 00:05 in Hanoi, the next day
    with time_machine.travel(LATE, tick=False) as clock:
        report = fault_reports.report(engine, desk_settings, point=(LON0, LAT0), **ACT)
        faults.confirm(engine, desk_settings, fault_id=report.outage_id, feeders=["F1"],
                       cause="weather", started_at=LATE - timedelta(minutes=30), **ACT)
        faults.set_etr(engine, desk_settings, fault_id=report.outage_id, at=etr, **ACT)
        clock.move_to(etr - timedelta(minutes=4))
        _drain(engine, desk_settings)
    assert [(r.status, r.last_error_code) for r in h.rows(engine, kind=ETR_PASSING,
                                                          channel="email")] == [("sent", None)]
    [mail] = [m for m in smtp.messages if m["To"] == DESK]
    assert "00:05 hôm nay" in mail.get_body(("plain",)).get_content()
