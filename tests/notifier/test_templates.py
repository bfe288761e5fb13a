from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifier.channels import EmailChannel, SmsChannel
from notifier.render import Renderer
from outages import paths
from outages.notices.queue import KINDS, LANGUAGES

CONTEXT = {
    "utility": "Điện lực Hà Nội", "hotline": "1900 6769", "area": "Phường Láng Hạ",
    "reason": "bảo dưỡng", "start": "08:00 07/12/2026", "end": "16:30 07/12/2026",
    "etr": "12:00 07/12/2026", "restored_at": "15:10 07/12/2026",
    "reported_at": "07:55 07/12/2026", "expected_end": "16:30 07/12/2026",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_for_sms_and_email(kind: str, language: str) -> None:
    renderer = Renderer(paths.templates_dir(), sms_ascii=True)
    sms = renderer.render(SmsChannel.templates, f"sms/{language}/{kind}", CONTEXT)
    assert sms.encoding == "GSM-7", sms.body
    assert "1900 6769" in sms.body
    assert sms.segments <= 2, (len(sms.body), sms.body)
    email = renderer.render(EmailChannel.templates, f"email/{language}/{kind}", CONTEXT)
    assert email.subject and "\n" not in email.subject
    assert "1900 6769" in email.body and "1900 6769" in email.html
    assert email.html.startswith("<!doctype html>")
    if kind in ("announcement", "reminder", "changed", "fault_ack", "etr_update"):
        # what a notice must state: place, reason, start, expected restoration
        for part in ("Láng Hạ", "bảo dưỡng", "08:00 07/12/2026"):
            assert part in email.body


def test_dispatcher_text_is_data_not_template_code_and_html_is_escaped() -> None:
    renderer = Renderer(paths.templates_dir())
    hostile = {**CONTEXT, "area": "{{ 7*7 }} <b>x</b>",
               "reason": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    email = renderer.render(EmailChannel.templates, "email/en/announcement", hostile)
    assert "{{ 7*7 }}" in email.body and "49" not in email.body
    assert "&lt;b&gt;x&lt;/b&gt;" in email.html and "<b>x</b>" not in email.html
    assert "__subclasses__" in email.body  # shown literally, never evaluated
    sms = renderer.render(SmsChannel.templates, "sms/en/announcement", hostile)
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
