"""Jinja2 environment for the server-rendered public page (autoescaped)."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment

from notifier.render import html_environment
from outages import paths

LANGUAGES = ("vi", "en")


def page_environment() -> Environment:
    environment = html_environment(paths.templates_dir() / "web")
    environment.filters["when"] = when
    return environment


def when(iso: str | None, pattern: str) -> str:
    """A local ISO time (as the public API gives it) in the page's own format."""
    return "" if not iso else datetime.fromisoformat(iso).strftime(pattern)
