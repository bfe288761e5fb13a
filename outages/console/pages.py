"""Rendering console pages: the Jinja2 environment (autoescaped, templates/console), the
message catalogue in both languages, and the context every page gets (navigation, language
switch, CSRF token, open alerts)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from notifier.render import html_environment
from outages import paths
from outages.api.deps import reading
from outages.console.session import LANGUAGE_COOKIE, Visitor, engine_of, settings_of
from outages.errors import OutagesError
from outages.lifecycle import alerts
from outages.settings import Settings
from outages.timeutil import to_local

LANGUAGES = ("vi", "en")
# Open alerts counted for the badge at most; more shows as "99+".
BADGE_MAX = 99


@dataclass(frozen=True)
class NavItem:
    key: str  # in the catalogue
    path: str  # under /console
    capability: str  # shown to roles that have it


NAV = (
    NavItem("nav_cuts", "/cuts", "read"),
    NavItem("nav_new_cut", "/cuts/new", "dispatch"),
    NavItem("nav_incidents", "/incidents", "read"),
    NavItem("nav_notices", "/notices", "read"),
    NavItem("nav_alerts", "/alerts", "read"),
    NavItem("nav_reports", "/reports", "reports"),
    NavItem("nav_users", "/users", "manage"),
)


class Catalogue:
    """Every console label in Vietnamese and English: templates/console/messages/*.toml, one
    table per key with `vi` and `en` (str.format placeholders allowed)."""

    def __init__(self, folder: Path) -> None:
        self.entries: dict[str, dict[str, str]] = {}
        for path in sorted(folder.glob("*.toml")):
            with path.open("rb") as handle:
                for key, texts in tomllib.load(handle).items():
                    if key in self.entries:
                        raise ValueError(f"{path.name}: message {key!r} is defined twice")
                    missing = [lang for lang in LANGUAGES if not texts.get(lang)]
                    if missing:
                        raise ValueError(f"{path.name}: message {key!r} has no {missing[0]}")
                    self.entries[key] = texts

    def text(self, language: str, key: str, **values: Any) -> str:
        wording = self.entries[key][language]
        return wording.format(**values) if values else wording

    def translator(self, language: str) -> Callable[..., str]:
        def t(key: str, **values: Any) -> str:
            return self.text(language, key, **values)

        return t


def refusal(exc: OutagesError, language: str) -> str:
    """A domain refusal as the console shows it: the message, then the way out its hint
    names, worded for a console user (catalogue key hint_<name>) when there is one."""
    way_out = catalogue().entries.get(f"hint_{exc.hint}", {}).get(language)
    return f"{exc.message}. {way_out}" if way_out else exc.message


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue(paths.templates_dir() / "console" / "messages")


def environment() -> Environment:
    return html_environment(paths.templates_dir() / "console")


def request_language(request: Request, visitor: Visitor | None, settings: Settings) -> str:
    """The session's language; before sign-in ?lang=, the language cookie, the first of vi
    and en the browser asks for, else locale.default_language."""
    if visitor is not None:
        return visitor.language
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                   browser_language(request.headers.get("accept-language", ""))):
        if chosen in LANGUAGES:
            return chosen
    return settings.locale.default_language


def browser_language(header: str) -> str | None:
    """The console language an Accept-Language header prefers most ("en-GB,en;q=0.9")."""
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def console_root(request: Request) -> str:
    """The console's own path prefix ("/console", behind any proxy prefix)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def static_root(request: Request) -> str:
    return console_root(request).removesuffix("/console") + "/static"


def _open_alerts(request: Request) -> int:
    with reading(engine_of(request)) as conn:
        return len(alerts.listing(conn, settings_of(request), open_only=True,
                                  limit=BADGE_MAX + 1))


def _when(language: str, tz: ZoneInfo) -> Callable[[Any], str]:
    pattern = catalogue().text(language, "fmt_datetime")

    def when(value: Any) -> str:
        """A moment in local time, whether given as a UTC datetime or a local ISO text."""
        if not value:
            return "–"
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return (to_local(moment, tz) if moment.tzinfo else moment).strftime(pattern)

    return when


async def render(request: Request, template: str, *, visitor: Visitor | None,
                 status_code: int = 200, **context: Any) -> HTMLResponse:
    """`template` (under templates/console) with the common context: `t` (the catalogue),
    `known(key)` (whether the catalogue has it), `lang`, `when` (local time), `href` (a
    console path), `static`, `visitor`, `csrf`, `nav`, `alerts_open`, `settings`."""
    settings = settings_of(request)
    language = request_language(request, visitor, settings)
    root = console_root(request)
    alerts_open = (await run_in_threadpool(_open_alerts, request)
                   if visitor is not None and visitor.can("read") else 0)
    nav = [item for item in NAV if visitor is not None and visitor.can(item.capability)]
    html = environment().get_template(template).render(
        t=catalogue().translator(language), known=lambda key: key in catalogue().entries,
        lang=language,
        other_lang="en" if language == "vi" else "vi", when=_when(language, settings.tz),
        href=lambda path="": root + path, root=root, static=static_root(request),
        visitor=visitor, csrf=visitor.csrf_token if visitor else "", nav=nav,
        current=request.url.path.removeprefix(root), alerts_open=alerts_open,
        badge_max=BADGE_MAX, settings=settings, zone=settings.locale.timezone, **context)
    # Pages carry personal data and a CSRF token: never cached, never stored.
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
