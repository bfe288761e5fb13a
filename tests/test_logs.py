"""Log lines as text or JSON, with phone numbers and emails masked in both."""

from __future__ import annotations

import json
import logging

import pytest

from outages.logs import JsonFormatter, TextFormatter, mask


@pytest.mark.parametrize(("text", "masked"), [
    ("The 'To' number +84912345678 is not valid", "The 'To' number +8491*****78 is not valid"),
    ("call 0912 345 678", "call 0912****78"),
    ("+84 91 234 5678 replied", "+8491*****78 replied"),
    ("mailbox nguyen.van.a@example.vn full", "mailbox n***@example.vn full"),
    ("Number:+84912345678 is not a mobile", "Number:+8491*****78 is not a mobile"),
])
def test_phone_numbers_and_emails_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize("text", [
    "outbox 1234567 to sms: HTTP 400 (code 21211)",
    "next run at: 2026-11-30 21:01:03 UTC", "at 2026-11-30T21:01:02.441+00:00",
    "message SM0d330e69bf9048e284066148c125feaa", "released 12 notices", "1234567.891011",
    "time:+0700 offset", "id:123456789",
])
def test_ids_codes_dates_and_times_are_left_alone(text: str) -> None:
    assert mask(text) == text


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("notifier.dispatcher", logging.WARNING, __file__, 1, message,
                               args, None)
    record.__dict__.update(extra)
    return record


def test_a_json_line_carries_the_ids_and_no_contact_data() -> None:
    record = _record("outbox %s to %s: %s", 7, "sms", "number +84900000003 refused",
                     notice_id=7, outage_id=3, provider_message_id="SM1")
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "outbox 7 to sms: number +8490*****03 refused"
    assert (line["notice_id"], line["outage_id"], line["provider_message_id"]) == (7, 3, "SM1")
    assert (line["level"], line["logger"]) == ("warning", "notifier.dispatcher")
    assert line["time"].endswith("+00:00")
    assert "customer_id" not in line and "args" not in line


def test_text_lines_are_masked_too() -> None:
    record = _record("more than %d SMS from %s within an hour", 20, "+84912345003")
    text = TextFormatter().format(record)
    assert text.endswith("notifier.dispatcher WARNING more than 20 SMS from +8491*****03 "
                         "within an hour")
