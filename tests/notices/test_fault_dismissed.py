"""A reported incident dismissed (no fault on the network): each reporter gets one truthful
notice, by the channels they take, through the real twilio client and a real SMTP server;
"report received" notices not sent yet are dropped; a STOP holds; nothing goes twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from notifier.dispatcher import Dispatcher
from outages.lifecycle import fault_reports, faults
from outages.notices import delivery, sms_commands
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
ACT: dict[str, Any] = {"actor": "call-centre", "source": "cli"}
CALLER = "+84912345678"  # a tenant's phone: on no account
STOPPED = "+84912345679"  # a caller on no account who texted STOP
PLACE = (105.8, 21.0)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _dispatcher(engine: Engine, settings: Settings) -> Dispatcher:
    clock = h.Clock(NOW + timedelta(minutes=1))  # the rows are stamped by the ticking clock
    return delivery.dispatcher(engine, settings, clock=clock, concurrency=2)


def test_dismissed_incident_tells_each_reporter_once_what_the_crew_found(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], smtp: SmtpServer,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_SMTP_HOST="127.0.0.1",
                             OUTAGES_SMTP_PORT=str(smtp.port),
                             OUTAGES_SMTP_FROM="notices@utility.test",
                             OUTAGES_SMTP_STARTTLS="false")
    vi = h.customers(1)[0]  # C0000000: texts, in Vietnamese
    en = {**h.customers(1, start=1, email=True, language="en")[0], "channels": "email"}
    opted_out = {**h.customers(1, start=2)[0], "sms_opt_out": True}
    for row in (vi, en, opted_out):  # one at a time: each has its own columns
        add_customers([row])
    with time_machine.travel(NOW - timedelta(minutes=40), tick=True):  # the worker is down
        for code in (vi["code"], en["code"], opted_out["code"]):
            fault_reports.report(engine, settings, customer=code, **ACT)
        fault_reports.report(engine, settings, phone=CALLER, point=PLACE, **ACT)
        with engine.begin() as conn:
            sms_commands.handle(conn, settings, phone=STOPPED, text="STOP")
        fault_id = fault_reports.report(engine, settings, phone=STOPPED, point=PLACE,
                                        **ACT).outage_id
    # Dismissed before the worker sent any "report received": that is no longer the news,
    # and too long before the dismissal's notice for it to supersede them.
    view = faults.dismiss(engine, settings, fault_id=fault_id,
                          reason="installation inside the building", **ACT)
    assert (view.status, view.dismiss_reason) == ("dismissed",
                                                  "installation inside the building")
    dispatcher = _dispatcher(engine, settings)
    try:
        dispatcher.drain()
        dispatcher.drain()
    finally:
        dispatcher.close()
    assert h.rows(engine, kind="fault_report_received", status="sent") == []
    texts = {to: twilio.bodies_to(to) for to in (vi["phone"], CALLER, STOPPED,
                                                 opted_out["phone"], en["phone"])}
    assert [len(sent) for sent in texts.values()] == [1, 1, 0, 0, 0], texts
    assert "khong phat hien su co tren luoi dien" in texts[vi["phone"]][0]
    assert "1900 6769" in texts[vi["phone"]][0]
    assert texts[CALLER] == texts[vi["phone"]]  # a caller without an account: the default
    [mail] = smtp.messages
    assert mail["To"] == en["email"]
    assert mail["Subject"] == "No fault found on the power network"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "found no fault on the power network" in body
    assert "the problem may be in your building's installation" in body
    assert len(h.rows(engine, kind="fault_dismissed", status="sent")) == 3
