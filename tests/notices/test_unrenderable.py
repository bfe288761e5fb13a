"""A notice whose text will not render at send time (a template mistake shipped in an update)
holds up only itself: the rest of the batch goes out and is recorded, the notice is tried again
later, and a fallback that will not render is dropped loudly rather than undoing the outcomes
recorded with it."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, select

from notifier.dispatcher import NOT_READY
from outages import paths
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.notices import delivery
from outages.registry.customers import update_customer
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def break_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Serve the templates from a copy in which `name` refers to a value no context has."""
    shipped = paths.templates_dir()
    copy = tmp_path / "templates"
    shutil.copytree(shipped, copy)

    def broken(name: str) -> None:
        target = copy / name
        target.write_text(target.read_text(encoding="utf-8") + "{{ no_such_value.x }}\n",
                          encoding="utf-8")
        monkeypatch.setattr(paths, "templates_dir", lambda: copy)
    return broken


def _drain(engine: Engine, settings: Settings, at: datetime) -> int:
    dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(at), concurrency=4)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


def test_a_notice_that_will_not_render_again_waits_while_the_rest_go_out(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], break_template: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(**{**twilio_env, "OUTAGES_RETRY_BASE_DELAY": "1m"},
                             OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(3))
    ids = h.customer_ids(engine)
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    assert _drain(engine, settings, NOW) == 3  # the announcement, in Vietnamese
    with engine.begin() as conn:
        update_customer(conn, "C0000001", changes={"language": "en"}, actor="test",
                        source="cli", settings=settings)
    break_template("sms/en/reminder.txt")
    day_before = START - timedelta(days=1)
    with caplog.at_level(logging.ERROR, logger="outages.notices.recipients"):
        _drain(engine, settings, day_before)
    reminders = {r.customer_id: r for r in h.rows(engine, kind="reminder", channel="sms")
                 if (r.first_due_at or r.due_at) <= day_before}
    assert {i: reminders[i].status for i in ids} == {
        ids[0]: "sent", ids[1]: "pending", ids[2]: "sent"}
    waiting = reminders[ids[1]]
    assert waiting.last_error_code == NOT_READY and "sms/en/reminder" in waiting.last_error
    assert waiting.attempts == 1 and waiting.due_at > day_before  # backing off
    assert "could not be rendered for sms in en" in caplog.text
    assert len(twilio.bodies_to("+84900000001")) == 1  # the announcement only: no old text
    monkeypatch.undo()  # the template is fixed
    _drain(engine, settings, day_before + timedelta(minutes=5))
    [again] = [r for r in h.rows(engine, kind="reminder", customer_id=ids[1], channel="sms")
               if r.first_due_at == day_before]
    assert (again.status, again.attempts) == ("sent", 2)
    assert twilio.bodies_to("+84900000001")[1].startswith("Dien luc Ha Noi reminder:")


def test_a_fallback_that_will_not_render_is_dropped_loudly_and_the_outcomes_stay(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], break_template: Callable[[str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2, email=True, channels="sms"))  # email only as a fallback
    ids = h.customer_ids(engine)
    twilio.fail("+84900000000", 400, 21211)  # not a number: falls back to email
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          etr=NOW + timedelta(hours=3), members=ids, start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    break_template("email/vi/fault_ack.txt")
    with caplog.at_level(logging.ERROR, logger="outages.notices.delivery"):
        _drain(engine, settings, NOW)
    sms = {r.customer_id: (r.status, r.last_error_code)
           for r in h.rows(engine, kind="fault_ack", channel="sms")}
    assert sms == {ids[0]: ("failed", "21211"), ids[1]: ("sent", None)}
    assert h.rows(engine, kind="fault_ack", channel="email") == []
    with engine.connect() as conn:  # recorded with the outcomes: the number is flagged
        flagged = dict(conn.execute(select(Customer.id, Customer.phone_invalid)).all())
    assert flagged == {ids[0]: True, ids[1]: False}
    assert "1 sms failures could not fall back to email" in caplog.text
