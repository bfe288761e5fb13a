"""What customers read: no passed time given as expected, no Unicode space or superscript
turning an SMS into UCS-2, and Zalo words where SMS and email have them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine

from notifier.channels import SmsChannel, ZaloChannel
from outages.notices import sms_commands
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.notices import helpers as h
from tests.notifier.test_templates import CONTEXT as TEMPLATE_CONTEXT
from tests.notifier.test_templates import HANOI, SENT, _at, _renderer

# The template tests' facts, with the utility named without diacritics.
CONTEXT: dict[str, Any] = {**TEMPLATE_CONTEXT, "utility": "Dien luc Ha Noi"}


# --- 1. Unicode spaces / compatibility characters typed by a dispatcher force UCS-2 -------

def test_en_space_or_em_space_in_a_reason_does_not_make_the_sms_ucs2() -> None:
    """A reason pasted from a word processor with an en space (U+2002) or em space (U+2003):
    the thin, hair and figure spaces are replaced, these are not, and the whole message
    becomes UCS-2 (one segment becomes two or three)."""
    for space in ("\u2002", "\u2003", "\u2005", "\u3000"):
        context = {**CONTEXT, "reason": f"bảo dưỡng{space}đường dây"}
        for language in ("vi", "en"):
            sms = _renderer().render(SmsChannel.templates, f"sms/{language}/announcement",
                                     context, language=language, now=SENT)
            assert sms.encoding == "GSM-7", (repr(space), language, sms.body)
            assert sms.segments == 1


def test_a_superscript_in_a_reason_does_not_make_the_sms_ucs2() -> None:
    """'cáp ngầm 3x240mm²' is how cable sections are written; NFD folding keeps '²'."""
    context = {**CONTEXT, "reason": "thay cáp ngầm 3x240mm²"}
    sms = _renderer().render(SmsChannel.templates, "sms/vi/announcement", context,
                             language="vi", now=SENT)
    assert sms.encoding == "GSM-7", sms.body


# --- 2. Zalo parameters give '-' where SMS and email say "your area" / "not yet known" ----

def test_zalo_params_do_not_show_a_dash_for_an_unnamed_area_or_an_unknown_etr() -> None:
    context = {**CONTEXT, "area": None, "etr": None}
    for language, words in (("vi", ("khu vực của quý khách", "chưa xác định")),
                            ("en", ("your area", "not yet known"))):
        sms = _renderer().render(SmsChannel.templates, f"sms/{language}/fault_ack", context,
                                 language=language, now=SENT, ascii_only=False)
        assert words[0] in sms.body and words[1] in sms.body  # what the SMS says
        zalo = _renderer().render(ZaloChannel.templates, f"zalo/{language}/fault_ack",
                                  context, language=language, now=SENT)
        params = json.loads(zalo.body)
        assert params["area"] != "-", params
        assert params["etr"] != "-", params


# --- 3. STATUS reply states an ETR already passed as "expected back" ----------------------

def test_status_reply_does_not_give_an_etr_already_passed_as_expected(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(1) + h.customers(1, start=1, language="en"))
    ids = h.customer_ids(engine)
    with time_machine.travel(_at("14:00 07/12/2026"), tick=False):
        _status_with_passed_etr(engine, settings, ids)


def _status_with_passed_etr(engine: Engine, settings: Settings, ids: list[int]) -> None:
    now = utcnow()
    passed = now - timedelta(hours=2)
    h.add_outage(engine, kind="fault", status="confirmed", actual_start=now - timedelta(hours=5),
                 etr=passed, members=ids, area_name="Doi Can")
    local = passed.astimezone(HANOI)
    for phone in (f"+8490{0:07d}", f"+8490{1:07d}"):
        with engine.begin() as conn:
            reply = sms_commands.handle(conn, settings, phone=phone, text="TINHTRANG")
        assert reply is not None
        text = sms_commands.render(reply, settings)
        # "power is off, expected back 10:00 today" read at 12:00: a time already behind them
        assert f"{local:%H:%M}" not in text, text
