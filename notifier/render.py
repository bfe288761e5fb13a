"""Message text from Jinja2 templates: templates/<channel>/<language>/<kind>.<ext>.

Dispatcher-entered text (area names, reasons) reaches the templates as data only: the
environment is sandboxed, and HTML output is autoescaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from notifier import gsm

LANGUAGES = ("vi", "en")
KINDS = (
    "announcement",
    "reminder",
    "changed",
    "cancelled",
    "no_longer_affected",
    "started",
    "restored",
    "fault_report_received",
    "fault_ack",
    "etr_update",
    "etr_passed",
)


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None
    html: str | None = None
    encoding: str | None = None
    segments: int = 1


@lru_cache(maxsize=8)
def environment(templates: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Renderer:
    def __init__(self, templates: Path, *, sms_ascii: bool = True) -> None:
        self.env = environment(templates)
        self.sms_ascii = sms_ascii

    def _text(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(name).render(**context).strip()

    def render(self, channel: str, language: str, kind: str,
               context: Mapping[str, Any]) -> Rendered:
        base = f"{channel}/{language}/{kind}"
        if channel == "sms":
            text, info = gsm.prepare(self._text(f"{base}.txt", context), ascii_only=self.sms_ascii)
            return Rendered(body=text, encoding=info.encoding, segments=info.segments)
        if channel == "email":
            return Rendered(
                subject=" ".join(self._text(f"{base}.subject.txt", context).split()),
                body=self._text(f"{base}.txt", context),
                html=self._text(f"{base}.html", context),
                encoding="utf-8",
            )
        # Any other channel (console, future ones) shows the SMS wording.
        return Rendered(body=gsm.clean(self._text(f"sms/{language}/{kind}.txt", context)),
                        encoding="utf-8")
