"""Jinja2 environment for the server-rendered public page (autoescaped)."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from outages import paths

LANGUAGES = ("vi", "en")


def page_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(paths.templates_dir() / "web"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = when
    return environment


def when(iso: str | None, pattern: str) -> str:
    """A local ISO time (as the public API gives it) in the page's own format."""
    return "" if not iso else datetime.fromisoformat(iso).strftime(pattern)
