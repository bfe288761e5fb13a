"""A customer's channel preference as it is when a notice goes out: reminders are queued
days ahead, on the channels the customer preferred then."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.lifecycle.events import OutageEvent, publish
from outages.notices import delivery
from outages.registry.customers import update_customer
from outages.settings import Settings
from tests.notices import helpers as h

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)


def _drain(engine: Engine, settings: Settings, at: datetime) -> None:
    with time_machine.travel(at, tick=True):
        dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(at), concurrency=1)
        try:
            dispatcher.drain()
        finally:
            dispatcher.close()


@pytest.mark.xfail(strict=True, reason="the channel of a queued notice is not checked "
                   "against the customer's preference when it goes out")
def test_a_customer_who_switched_to_email_gets_the_reminder_by_email_not_by_text(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path,
) -> None:
    """Announced by SMS (the default channel), the customer then asks for email only
    (`customers update --channels email`). The reminder queued days before on SMS still
    goes by text, and no email carries it."""
    sent = tmp_path / "sent.jsonl"
    settings = make_settings(OUTAGES_NOTICES_CHANNELS="sms", OUTAGES_NOTICES_QUIET_HOURS="",
                             OUTAGES_NOTICES_CONSOLE_PATH=str(sent))
    add_customers(h.customers(1, email=True))
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8),
                          members=h.customer_ids(engine))
    with time_machine.travel(NOW, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    _drain(engine, settings, NOW)
    with engine.begin() as conn:
        update_customer(conn, "C0000000", changes={"channels": "email"}, actor="desk",
                        source="cli", settings=settings)
    _drain(engine, settings, START - timedelta(days=1))
    reminders = [(m["channel"], m["recipient"]) for m in map(json.loads, sent.read_text()
                                                             .splitlines())
                 if m["kind"] == "reminder"]
    assert reminders == [("email", "c0@example.test")], reminders
