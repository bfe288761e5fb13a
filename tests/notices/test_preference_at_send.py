"""A customer's channel preference as it is when a notice goes out: reminders are queued
days ahead, on the channels the customer preferred then. Fallbacks (a notice on another
channel because the preferred one could not carry it) still go."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from sqlalchemy import Engine

from outages.lifecycle.events import OutageEvent, publish
from outages.notices import delivery
from outages.registry.customers import update_customer
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer
from tests.support.zalo_server import ZaloServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)
REMINDER_DUE = START - timedelta(days=1)
PHONE, EMAIL = "+84900000000", "c0@example.test"


def _drain(engine: Engine, settings: Settings, at: datetime, *, rounds: int = 2) -> None:
    """Send what is due at `at`, then what that queued (due at once), as the worker's alarm
    wakes it again for them."""
    with time_machine.travel(at, tick=True):
        dispatcher = delivery.dispatcher(engine, settings, concurrency=1)
        try:
            for _ in range(rounds):
                dispatcher.drain()
        finally:
            dispatcher.close()


def _settings(make_settings: Callable[..., Settings], tmp_path: Path,
              **env: str) -> Settings:
    return make_settings(**{"OUTAGES_NOTICES_CHANNELS": "sms", "OUTAGES_NOTICES_QUIET_HOURS": "",
                            "OUTAGES_NOTICES_CONSOLE_PATH": str(tmp_path / "sent.jsonl"),
                            **env})


def _sent(tmp_path: Path, kind: str) -> list[tuple[str, str]]:
    """(channel, recipient) of the messages of `kind` the console took."""
    path = tmp_path / "sent.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(m["channel"], m["recipient"]) for m in map(json.loads, lines) if m["kind"] == kind]


def _announce(engine: Engine, settings: Settings) -> None:
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8),
                          members=h.customer_ids(engine))
    with time_machine.travel(NOW, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    _drain(engine, settings, NOW)


def _switch(engine: Engine, settings: Settings, channels: str) -> None:
    """`customers update C0000000 --channels <channels>`."""
    with engine.begin() as conn:
        update_customer(conn, "C0000000", changes={"channels": channels}, actor="desk",
                        source="cli", settings=settings)


def _reminders(engine: Engine) -> list[tuple[str, str, str | None]]:
    """The day-before reminder's rows: (channel, status, why skipped)."""
    return [(r.channel, r.status, r.last_error_code) for r in h.rows(engine, kind="reminder")
            if ":r1-86400s:" in r.key]


def test_a_customer_who_switched_to_email_gets_the_reminder_by_email_not_by_text(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path,
) -> None:
    """Announced by SMS (the default channel), the customer then asks for email only
    (`customers update --channels email`): the reminder queued days before on SMS goes by
    email instead."""
    settings = _settings(make_settings, tmp_path)
    add_customers(h.customers(1, email=True))
    _announce(engine, settings)
    _switch(engine, settings, "email")
    _drain(engine, settings, REMINDER_DUE)
    assert _sent(tmp_path, "reminder") == [("email", EMAIL)]


def test_a_customer_who_switched_to_text_gets_the_reminder_once_by_text(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path,
) -> None:
    settings = _settings(make_settings, tmp_path)
    add_customers(h.customers(1, email=True, channels="email"))
    _announce(engine, settings)
    assert _sent(tmp_path, "announcement") == [("email", EMAIL)]
    _switch(engine, settings, "sms")
    _drain(engine, settings, REMINDER_DUE)
    _drain(engine, settings, REMINDER_DUE + timedelta(minutes=5))  # nothing sent twice
    assert _sent(tmp_path, "reminder") == [("sms", PHONE)]
    assert sorted(_reminders(engine)) == [("email", "skipped", "channel_changed"),
                                          ("sms", "sent", None)]


def test_a_reminder_queued_on_the_channel_kept_goes_there_alone(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path,
) -> None:
    """Email and text, then text only: the reminder queued on both goes once, by text."""
    settings = _settings(make_settings, tmp_path)
    add_customers(h.customers(1, email=True, channels="email,sms"))
    _announce(engine, settings)
    _switch(engine, settings, "sms")
    _drain(engine, settings, REMINDER_DUE)
    _drain(engine, settings, REMINDER_DUE + timedelta(minutes=5))
    assert _sent(tmp_path, "reminder") == [("sms", PHONE)]
    assert sorted(_reminders(engine)) == [("email", "skipped", "channel_changed"),
                                          ("sms", "sent", None)]


def test_switching_back_before_the_reminder_went_sends_it_on_the_first_channel(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path,
) -> None:
    """Text, then email, then text again while the email queued for the change waits: the
    text skipped for the change is sent after all, and the email is not."""
    settings = _settings(make_settings, tmp_path)
    add_customers(h.customers(1, email=True))
    _announce(engine, settings)
    _switch(engine, settings, "email")
    _drain(engine, settings, REMINDER_DUE, rounds=1)
    assert sorted(_reminders(engine)) == [("email", "pending", None),
                                          ("sms", "skipped", "channel_changed")]
    _switch(engine, settings, "sms")
    _drain(engine, settings, REMINDER_DUE + timedelta(minutes=1))
    assert _sent(tmp_path, "reminder") == [("sms", PHONE)]


def test_a_text_that_failed_for_good_still_falls_back_to_email(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path, twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    """The customer prefers text; the number is refused for good, and the email queued in
    its place goes, though email is not their channel."""
    settings = _settings(make_settings, tmp_path, **twilio_env)
    add_customers(h.customers(1, email=True, channels="sms"))
    twilio.fail(PHONE, 400, 21211)  # not a valid number
    _announce(engine, settings)
    assert _sent(tmp_path, "announcement") == [("email", EMAIL)]
    assert [r.status for r in h.rows(engine, kind="announcement", channel="sms")] == ["failed"]


def test_a_zalo_message_that_failed_for_good_still_falls_back_to_text(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    tmp_path: Path, zalo: ZaloServer, zalo_env: dict[str, str],
) -> None:
    """The customer prefers Zalo only; Zalo refuses the message (its template was
    rejected), and the text queued in its place goes."""
    settings = _settings(make_settings, tmp_path, **zalo_env)
    add_customers(h.customers(1, channels="zalo"))
    zalo.fail(PHONE.removeprefix("+"), -109)
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          etr=NOW + timedelta(hours=3), members=h.customer_ids(engine),
                          start=None)
    with time_machine.travel(NOW, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    _drain(engine, settings, NOW)
    assert _sent(tmp_path, "fault_ack") == [("sms", PHONE)]
    assert [r.channel for r in h.rows(engine, kind="fault_ack", status="failed")] == ["zalo"]
