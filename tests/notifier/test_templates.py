from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from notifier.channels import EmailChannel, SmsChannel
from notifier.render import Renderer
from outages import paths
from outages.notices.queue import KINDS, LANGUAGES

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%H:%M %d/%m/%Y").replace(tzinfo=HANOI)


CONTEXT = {
    "utility": "Điện lực Hà Nội", "hotline": "1900 6769", "area": "Phường Láng Hạ",
    "reason": "bảo dưỡng", "start": _at("08:00 07/12/2026"), "end": _at("16:30 07/12/2026"),
    "etr": _at("12:00 07/12/2026"), "restored_at": _at("15:10 07/12/2026"),
    "reported_at": _at("07:55 07/12/2026"), "unsubscribe_url": None,
    "expected_end": _at("16:30 07/12/2026"), "next_update": _at("12:30 07/12/2026"),
    "planned_until": None, "by_text": True,
}
# Five days before the cut, as an announcement goes out.
SENT = _at("09:00 02/12/2026")
STARTS = {"en": "7 Dec 08:00", "vi": "08:00 ngày 07/12"}


def _renderer() -> Renderer:
    return Renderer(paths.templates_dir(), sms_ascii=True, tz=HANOI)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_for_sms_and_email(kind: str, language: str) -> None:
    renderer = _renderer()
    sms = renderer.render(SmsChannel.templates, f"sms/{language}/{kind}", CONTEXT,
                          language=language, now=SENT)
    assert sms.encoding == "GSM-7", sms.body
    assert "1900 6769" in sms.body
    assert sms.segments <= 2, (len(sms.body), sms.body)
    email = renderer.render(EmailChannel.templates, f"email/{language}/{kind}", CONTEXT,
                            language=language, now=SENT)
    assert email.subject and "\n" not in email.subject
    assert "1900 6769" in email.body and "1900 6769" in email.html
    assert email.html.startswith("<!doctype html>")
    if kind in ("announcement", "reminder", "changed", "fault_ack", "etr_update"):
        # what a notice must state: place, reason, start, expected restoration
        for part in ("Láng Hạ", "bảo dưỡng", STARTS[language]):
            assert part in email.body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_email_ends_with_the_customers_own_way_to_stop_them(kind: str,
                                                                  language: str) -> None:
    link = "https://notices.example.test/unsubscribe/1.TOKEN"
    email = _renderer().render(EmailChannel.templates, f"email/{language}/{kind}",
                               {**CONTEXT, "unsubscribe_url": link}, language=language,
                               now=SENT)
    assert link in email.body.splitlines()[-1] and link in email.html
    assert "unsubscribe\"" not in email.body  # nothing reads replies: no 'reply unsubscribe'
    without = _renderer().render(EmailChannel.templates, f"email/{language}/{kind}", CONTEXT,
                                 language=language, now=SENT)
    assert "1900 6769" in without.body.splitlines()[-1]  # no link: call the hotline


def test_dispatcher_text_is_data_not_template_code_and_html_is_escaped() -> None:
    renderer = _renderer()
    hostile = {**CONTEXT, "area": "{{ 7*7 }} <b>x</b>",
               "reason": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    email = renderer.render(EmailChannel.templates, "email/en/announcement", hostile,
                            language="en", now=SENT)
    assert "{{ 7*7 }}" in email.body and "49" not in email.body
    assert "&lt;b&gt;x&lt;/b&gt;" in email.html and "<b>x</b>" not in email.html
    assert "__subclasses__" in email.body  # shown literally, never evaluated
    sms = renderer.render(SmsChannel.templates, "sms/en/announcement", hostile, language="en",
                          now=SENT)
    assert "{{ 7*7 }} <b>x</b>" in sms.body


@pytest.mark.parametrize("factory", ["text_environment", "html_environment"])
def test_sandbox_refuses_unsafe_template_code(factory: str) -> None:
    from jinja2.exceptions import SecurityError

    from notifier import render

    env = getattr(render, factory)(paths.templates_dir())
    template = env.from_string("{{ x.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(SecurityError):
        template.render(x=datetime.now(UTC))


def test_html_environment_escapes_every_template_and_text_escapes_none() -> None:
    from notifier.render import html_environment, text_environment

    hostile = {"area": "<b>x</b>"}
    html = html_environment(paths.templates_dir()).from_string("{{ area }}").render(hostile)
    text = text_environment(paths.templates_dir()).from_string("{{ area }}").render(hostile)
    assert (html, text) == ("&lt;b&gt;x&lt;/b&gt;", "<b>x</b>")


def _sms(kind: str, language: str, now: datetime, **context: object) -> str:
    rendered = _renderer().render(SmsChannel.templates, f"sms/{language}/{kind}",
                                  {**CONTEXT, "utility": "Dien luc Ha Noi", **context},
                                  language=language, now=now)
    return rendered.body


@pytest.mark.parametrize(("now", "en", "vi"), [
    # Days ahead: the date, without the year (it is this year where the customer lives).
    (SENT, "from 7 Dec 08:00 to 16:30", "tu 08:00 ngay 07/12 den 16:30"),
    # 23:30 UTC on 6 Dec is already 7 Dec in Hanoi: the day is named from there.
    (datetime(2026, 12, 6, 23, 30, tzinfo=UTC), "from 08:00 today to 16:30",
     "tu 08:00 hom nay den 16:30"),
    (_at("18:00 06/12/2026"), "from 08:00 tomorrow to 16:30", "tu 08:00 ngay mai den 16:30"),
    # Another year is written out.
    (_at("09:00 30/11/2025"), "from 7 Dec 2026 08:00 to 16:30",
     "tu 08:00 ngay 07/12/2026 den 16:30"),
])
def test_times_read_unambiguously_in_each_language(now: datetime, en: str, vi: str) -> None:
    assert en in _sms("announcement", "en", now)
    assert vi in _sms("announcement", "vi", now)


def test_a_window_across_midnight_dates_both_ends() -> None:
    night = {"start": _at("22:00 07/12/2026"), "end": _at("04:00 08/12/2026")}
    assert "from 7 Dec 22:00 to 8 Dec 04:00" in _sms("announcement", "en", SENT, **night)
    assert "tu 22:00 ngay 07/12 den 04:00 ngay 08/12" in _sms("announcement", "vi", SENT, **night)
    evening = _at("20:00 07/12/2026")
    assert "from 22:00 today to 04:00 tomorrow" in _sms("reminder", "en", evening, **night)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_typical_restoration_notice_is_one_gsm7_segment(language: str) -> None:
    restored = _at("15:10 07/12/2026")
    text = _renderer().render(
        SmsChannel.templates, f"sms/{language}/restored",
        {**CONTEXT, "utility": "Dien luc Ha Noi", "reason": "bảo dưỡng đường dây",
         "restored_at": restored}, language=language, now=restored)
    assert (text.encoding, text.segments) == ("GSM-7", 1), (len(text.body), text.body)
    assert ("15:10 today" if language == "en" else "15:10 hom nay") in text.body
    assert ("from 08:00," if language == "en" else "tu 08:00,") in text.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_notice_without_an_area_name_shows_no_internal_id(language: str) -> None:
    for kind in ("fault_report_received", "fault_ack"):
        text = _sms(kind, language, SENT, area=None)
        assert "None" not in text and "#" not in text, text


def test_a_window_across_the_hour_clocks_go_back_says_which_hour() -> None:
    # New York, 1 Nov 2026: 02:00 EDT becomes 01:00 EST. A cut from 01:45 EDT to 01:15 EST
    # (30 minutes) must not read as ending before it starts.
    new_york = ZoneInfo("America/New_York")
    renderer = Renderer(paths.templates_dir(), sms_ascii=True, tz=new_york)
    context = {**CONTEXT, "start": datetime(2026, 11, 1, 5, 45, tzinfo=UTC),
               "end": datetime(2026, 11, 1, 6, 15, tzinfo=UTC)}
    sms = renderer.render(SmsChannel.templates, "sms/en/announcement", context,
                          language="en", now=datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert "from 1 Nov 01:45 EDT to 01:15 EST" in sms.body, sms.body
    # Any other night reads as usual.
    context = {**CONTEXT, "start": datetime(2026, 11, 2, 6, 45, tzinfo=UTC),
               "end": datetime(2026, 11, 2, 7, 15, tzinfo=UTC)}
    sms = renderer.render(SmsChannel.templates, "sms/en/announcement", context,
                          language="en", now=datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert "from 2 Nov 01:45 to 02:15 " in sms.body, sms.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_report_during_a_planned_cut_is_answered_with_the_cut_s_end(language: str) -> None:
    renderer = _renderer()
    context = {**CONTEXT, "planned_until": _at("16:30 07/12/2026")}
    planned = {"en": ("planned work", "16:30"), "vi": ("theo ke hoach", "16:30")}[language]
    sms = renderer.render(SmsChannel.templates, f"sms/{language}/fault_report_received",
                          context, language=language, now=_at("08:00 07/12/2026"))
    assert all(part in sms.body for part in planned), sms.body
    assert sms.segments <= 2, (len(sms.body), sms.body)
    email = renderer.render(EmailChannel.templates, f"email/{language}/fault_report_received",
                            context, language=language, now=_at("08:00 07/12/2026"))
    assert "16:30" in email.body and "16:30" in email.html



@pytest.mark.parametrize(("language", "expected"), [
    ("en", "was not fixed as expected. We are still working on it"),
    ("vi", "chua khac phuc xong nhu du kien. Chung toi van dang khac phuc")])
def test_an_etr_passed_without_its_time_does_not_name_one(language: str, expected: str) -> None:
    """Worded without the ETR (none to give), it does not read "not fixed by not yet known"."""
    sms = _renderer().render(SmsChannel.templates, f"sms/{language}/etr_passed",
                             {**CONTEXT, "etr": None}, language=language, now=SENT)
    assert expected in sms.body, sms.body
