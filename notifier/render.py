"""Message text from Jinja2 templates, and the two Jinja environments every template in the
service renders with: plain text (SMS, SMS replies, email text) and autoescaped HTML (email,
web pages, reports).

Dispatcher-entered text (area names, reasons) reaches the templates as data only: both
environments are sandboxed, and HTML output is always escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from notifier import gsm
from notifier.timetext import local_time

# Context keys the renderer adds for the `when` filter.
NOW, ZONE, LANGUAGE = "_now", "_zone", "_language"


@dataclass(frozen=True)
class Templates:
    """The files a channel's message is made of, as extensions of `<folder>/<name>`."""

    body: str = "txt"
    subject: str | None = None
    html: str | None = None
    # The body is SMS text: cleaned of characters that force UCS-2 (folded to GSM-7 when
    # `sms_ascii`), and measured in segments.
    sms: bool = False


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None
    html: str | None = None
    encoding: str | None = None
    segments: int = 1


def _environment(folder: Path, *, autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=FileSystemLoader(str(folder)), autoescape=autoescape,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = when
    return env


@pass_context
def when(context: Context, value: datetime | None, follows: datetime | None = None) -> str:
    """`{{ start|when }}`, `{{ end|when(start) }}`: a time worded by templates/time/<lang>.txt
    for a reader in the message's zone at the moment it goes out."""
    if value is None:
        return "-"
    facts = local_time(value, now=context[NOW], tz=context[ZONE], follows=follows)
    wording = context.environment.get_template(f"time/{context[LANGUAGE]}.txt")
    return str(wording.module.when(facts))  # type: ignore[attr-defined]


@lru_cache(maxsize=8)
def text_environment(folder: Path) -> SandboxedEnvironment:
    return _environment(folder, autoescape=False)


@lru_cache(maxsize=8)
def html_environment(folder: Path) -> SandboxedEnvironment:
    return _environment(folder, autoescape=True)


class Renderer:
    def __init__(self, templates: Path, *, sms_ascii: bool = True, tz: tzinfo = UTC) -> None:
        self.text = text_environment(templates)
        self.html = html_environment(templates)
        self.sms_ascii = sms_ascii
        self.tz = tz

    def render(self, parts: Templates, name: str, context: Mapping[str, Any], *,
               language: str, now: datetime, ascii_only: bool | None = None) -> Rendered:
        """The message `name` (say 'sms/vi/announcement') made of `parts`, in `language`, as
        read at `now` (the moment it is meant to go out: "today" is that day). SMS text is
        folded to GSM-7 when `ascii_only` (default: the renderer's `sms_ascii`)."""
        context = {**context, NOW: now, ZONE: self.tz, LANGUAGE: language}
        body = self._render(self.text, f"{name}.{parts.body}", context)
        if parts.sms:
            fold = self.sms_ascii if ascii_only is None else ascii_only
            text, info = gsm.prepare(body, ascii_only=fold)
            return Rendered(body=text, encoding=info.encoding, segments=info.segments)
        subject = (None if parts.subject is None else
                   " ".join(self._render(self.text, f"{name}.{parts.subject}", context).split()))
        html = (None if parts.html is None else
                self._render(self.html, f"{name}.{parts.html}", context))
        return Rendered(body=body, subject=subject, html=html, encoding="utf-8")

    @staticmethod
    def _render(env: SandboxedEnvironment, name: str, context: Mapping[str, Any]) -> str:
        return env.get_template(name).render(**context).strip()
