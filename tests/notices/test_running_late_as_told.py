""""Running late" says the work "did not finish by <end> as announced" only to those told
that end. One never told an end (announcement refused for good, or never sent) hears that
the work takes longer than planned; one told an end still ahead hears nothing yet; one told
another end that passed hears of that one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, insert, select, update

from notifier import gsm
from notifier.store import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Interruption, Outage
from outages.notices import queue
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_etr_notices import NOW, _drain
from tests.support.twilio_server import TwilioServer
from tests.support.zalo_server import ZaloServer

START = NOW + timedelta(days=6)  # 10:00 in Hanoi
TOLD = "nhu da thong bao"  # "as announced"
LONGER = "keo dai hon du kien"  # "taking longer than planned"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _mark(engine: Engine, kind: str, status: str, customer_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.kind == kind,
                                          outbox.c.customer_id == customer_id)
                     .values(status=status, sent_at=NOW if status == "sent" else None))


def _publish(engine: Engine, settings: Settings, kind: str, outage: int, revision: int,
             action: str, **values: Any) -> None:
    at = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.id == outage).values(**values))
        h.add_revision(conn, outage, revision, action, at=at)
        publish(conn, settings, OutageEvent(kind, outage, revision, at))


def _cut(engine: Engine, settings: Settings, add_customers: Any,
         hours: int) -> tuple[int, list[int]]:
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=hours), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    return outage, ids


def _start(engine: Engine, settings: Settings, outage: int, revision: int,
           clock: time_machine.Traveller) -> None:
    clock.move_to(START)
    _publish(engine, settings, "cut_started", outage, revision, "started",
             status="in_progress", actual_start=START)


def _moved_to_noon_and_started(engine: Engine, settings: Settings, add_customers: Any,
                               clock: time_machine.Traveller, *, changed: tuple[str, str],
                               ) -> tuple[int, list[int]]:
    """Two customers told 10:00-14:00; the cut moved to 10:00-12:00, its change notice to
    each ending as `changed` says; then started (revision 3)."""
    outage, ids = _cut(engine, settings, add_customers, hours=4)
    for c in ids:
        _mark(engine, "announcement", "sent", c)
    _publish(engine, settings, "cut_rescheduled", outage, 2, "rescheduled",
             planned_end=START + timedelta(hours=2))
    for c, status in zip(ids, changed, strict=True):
        _mark(engine, "changed", status, c)
    _start(engine, settings, outage, 3, clock)
    return outage, ids


def _phone(i: int) -> str:
    return h.customers(1, start=i)[0]["phone"]


@pytest.mark.parametrize("status", ["failed", "skipped"])
def test_a_customer_never_told_the_end_is_not_told_it_was_announced(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
    status: str,
) -> None:
    settings = make_settings(**twilio_env)
    outage, ids = _cut(engine, settings, add_customers, hours=2)
    _mark(engine, "announcement", "sent", ids[0])
    _mark(engine, "announcement", status, ids[1])  # refused for good, or never sent
    _start(engine, settings, outage, 2, clock)
    clock.move_to(START + timedelta(hours=2, minutes=1))
    _drain(engine, settings)
    told, untold = twilio.bodies_to(_phone(0)), twilio.bodies_to(_phone(1))
    assert len(told) == 1 and TOLD in told[0] and "12:00" in told[0], told
    assert len(untold) == 1 and LONGER in untold[0], untold
    assert TOLD not in untold[0] and "12:00" not in untold[0], untold


def test_a_customer_told_a_later_end_hears_nothing_late_yet(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Told 10:00-14:00; moved to 10:00-12:00, the change notice reached only the first."""
    settings = make_settings(**twilio_env)
    _, ids = _moved_to_noon_and_started(engine, settings, add_customers, clock,
                                        changed=("sent", "failed"))
    clock.move_to(START + timedelta(hours=2, minutes=1))
    _drain(engine, settings)
    told = twilio.bodies_to(_phone(0))
    assert len(told) == 1 and TOLD in told[0] and "12:00" in told[0], told
    assert twilio.bodies_to(_phone(1)) == []
    late = h.rows(engine, kind="running_late", customer_id=ids[1])
    assert [(r.status, r.last_error_code, r.ref_at) for r in late] == [
        ("skipped", "end_not_passed", START + timedelta(hours=2)),
        ("pending", None, START + timedelta(hours=4))]  # at the end they were told


def test_a_customer_not_told_the_extension_hears_the_end_they_were_told_passed(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Told 12:00; extended to 14:00, the extension reached only the first."""
    settings = make_settings(**twilio_env)
    outage, ids = _cut(engine, settings, add_customers, hours=2)
    for c in ids:
        _mark(engine, "announcement", "sent", c)
    _start(engine, settings, outage, 2, clock)
    _publish(engine, settings, "cut_extended", outage, 3, "extended",
             etr=START + timedelta(hours=4))
    _mark(engine, "cut_extended", "sent", ids[0])
    _mark(engine, "cut_extended", "failed", ids[1])
    clock.move_to(START + timedelta(hours=4, minutes=1))
    _drain(engine, settings)
    first, second = twilio.bodies_to(_phone(0)), twilio.bodies_to(_phone(1))
    assert len(first) == 1 and "14:00" in first[0] and TOLD in first[0], first
    assert len(second) == 1 and "12:00" in second[0] and TOLD in second[0], second
    assert "14:00" not in second[0]


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize(("language", "announced"),
                         [("vi", "như đã thông báo"), ("en", "as announced")])
def test_running_late_without_an_end_told_does_not_say_it_was_announced(
    engine: Engine, settings: Settings, add_customers: Any, channel: str, language: str,
    announced: str,
) -> None:
    outage, _ = _cut(engine, settings, add_customers, hours=2)
    with engine.connect() as conn:
        row = conn.execute(select(Outage.__table__).where(Outage.id == outage)).one()
    ctx = queue.context(settings, row, expected_end=None)
    text = queue.render(settings, channel, language, "running_late", ctx, now=NOW)
    for part in (gsm.fold(text.body), gsm.fold(text.html or "")):  # SMS: without accents
        assert gsm.fold(announced) not in part and "12:00" not in part, part
    longer = "longer than planned" if language == "en" else "kéo dài hơn dự kiến"
    assert gsm.fold(longer) in gsm.fold(text.body)


def test_a_customer_told_a_later_end_hears_when_that_end_passes(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Told 10:00-14:00; moved to 10:00-12:00, the change notice reached only the first. The
    second, skipped at 12:00, hears at 14:00 that the work did not finish by the end they were
    told, once; each hears one "running late" in all."""
    settings = make_settings(**twilio_env)
    _moved_to_noon_and_started(engine, settings, add_customers, clock,
                               changed=("sent", "failed"))
    clock.move_to(START + timedelta(hours=2, minutes=1))
    _drain(engine, settings)
    assert twilio.bodies_to(_phone(1)) == []
    clock.move_to(START + timedelta(hours=4, minutes=1))
    _drain(engine, settings)
    second = twilio.bodies_to(_phone(1))
    assert len(second) == 1 and "14:00" in second[0] and TOLD in second[0], second
    assert len(twilio.bodies_to(_phone(0))) == 1


def test_a_customer_told_a_later_end_hears_nothing_once_power_is_back_or_the_cut_extended(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Both told 10:00-14:00, the move to 12:00 reached neither. The first has power back at
    13:00; the cut is extended to 16:00 for the second, who hears of it at 16:00 only."""
    settings = make_settings(**twilio_env)
    outage, ids = _moved_to_noon_and_started(engine, settings, add_customers, clock,
                                             changed=("failed", "failed"))
    clock.move_to(START + timedelta(hours=3))
    with engine.begin() as conn:
        conn.execute(insert(Interruption.__table__).values(
            outage_id=outage, customer_id=ids[0], planned=True, start_at=START,
            end_at=START + timedelta(hours=3)))
        h.add_revision(conn, outage, 4, "restored", at=START + timedelta(hours=3))
        publish(conn, settings, OutageEvent("restored", outage, 4, START + timedelta(hours=3),
                                            customer_ids=(ids[0],)))
    _publish(engine, settings, "cut_extended", outage, 5, "extended",
             etr=START + timedelta(hours=6))
    _mark(engine, "cut_extended", "failed", ids[1])
    clock.move_to(START + timedelta(hours=4, minutes=1))
    _drain(engine, settings)
    assert not [b for b in twilio.bodies_to(_phone(0)) + twilio.bodies_to(_phone(1))
                if TOLD in b or LONGER in b]
    clock.move_to(START + timedelta(hours=6, minutes=1))
    _drain(engine, settings)
    late = [b for b in twilio.bodies_to(_phone(1)) if TOLD in b]
    assert len(late) == 1 and "14:00" in late[0], late


def test_a_customer_told_a_new_end_meanwhile_hears_only_of_that_one(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Told 10:00-14:00, the move to 12:00 reached neither. Extended to 13:00, which reaches
    the second only after the extension was planned: at 13:00 it hears that 13:00 passed,
    and nothing at 14:00, an end it was no longer waiting for."""
    settings = make_settings(**twilio_env)
    outage, ids = _moved_to_noon_and_started(engine, settings, add_customers, clock,
                                             changed=("failed", "failed"))
    _publish(engine, settings, "cut_extended", outage, 4, "extended",
             etr=START + timedelta(hours=3))
    _mark(engine, "cut_extended", "sent", ids[1])
    clock.move_to(START + timedelta(hours=4, minutes=1))
    _drain(engine, settings)
    late = [b for b in twilio.bodies_to(_phone(1)) if TOLD in b]
    assert len(late) == 1 and "13:00" in late[0], late
    own = [r for r in h.rows(engine, kind="running_late", customer_id=ids[1])
           if r.ref_at == START + timedelta(hours=4)]
    # The one planned at the start went with the extension; the extension's own, when sent.
    assert {(r.status, r.last_error_code) for r in own} == {
        ("skipped", "cut_extended"), ("skipped", "end_told_since")}
    first = [b for b in twilio.bodies_to(_phone(0)) if TOLD in b]
    assert len(first) == 1 and "14:00" in first[0], first


def test_a_zalo_customer_never_told_the_end_hears_by_sms_what_zalo_cannot_say(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], zalo: ZaloServer,
    zalo_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    """Zalo's approved template reads "as announced" whatever the parameters: one never
    told the end hears "taking longer than planned" by SMS instead, once; one told it hears
    it by Zalo."""
    templates = {"running_late": {"vi": "290101", "en": "290102"}}
    settings = make_settings(**twilio_env, **{**zalo_env,
                                              "OUTAGES_ZALO_TEMPLATES": json.dumps(templates)})
    add_customers(h.customers(2, channels="zalo,sms"))
    ids = h.customer_ids(engine)
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=2), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    _mark(engine, "announcement", "sent", ids[0])
    _mark(engine, "announcement", "failed", ids[1])  # refused for good, no fallback left
    _start(engine, settings, outage, 2, clock)
    clock.move_to(START + timedelta(hours=2, minutes=1))
    _drain(engine, settings)
    _drain(engine, settings)  # the fallback queued by the first round
    late = [m for m in zalo.messages if m["template_id"] == "290101"]
    assert [m["phone"] for m in late] == [_phone(0).removeprefix("+")]
    assert twilio.bodies_to(_phone(0)) == []
    untold = twilio.bodies_to(_phone(1))
    assert len(untold) == 1 and LONGER in untold[0] and TOLD not in untold[0], untold
    [skipped] = h.rows(engine, kind="running_late", channel="zalo", customer_id=ids[1])
    assert (skipped.status, skipped.last_error_code) == ("skipped", "wording_fixed")
