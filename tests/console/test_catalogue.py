"""Every console label exists in both languages, and every route that changes something is
behind the session dependency (which checks the CSRF token)."""

from __future__ import annotations

import importlib
import re

from fastapi.routing import APIRoute

from outages import paths
from outages.console import app as console_app
from outages.console.pages import NAV, Catalogue, browser_language, catalogue
from outages.console.session import signed_in
from outages.enums import CallOutcome, CutStatus, IncidentStatus, Priority, Role

# t("key") with a whole key (t("status_" ~ s) names a family, checked below).
_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]*[a-z0-9])["']\s*[,)]""")


def test_every_key_a_template_names_is_in_both_languages() -> None:
    entries = catalogue().entries
    folder = paths.templates_dir() / "console"
    named = {key for path in folder.glob("*.html") for key in _KEY.findall(path.read_text())}
    dynamic = ({f"status_{s}" for s in (*CutStatus, *IncidentStatus)}
               | {f"role_{r}" for r in Role} | {f"priority_{p}" for p in Priority}
               | {f"outcome_{o}" for o in CallOutcome} | {item.key for item in NAV}
               | {f"done_{a}" for a in ("create", "reschedule", "cancel", "start", "extend",
                                        "restore")}
               | {f"user_done_{a}" for a in ("add", "disable", "password")})
    assert named > {"username", "password", "sign_in"}
    missing = sorted((named | dynamic) - set(entries))
    assert not missing
    assert all(texts["vi"] and texts["en"] for texts in entries.values())


def test_a_message_without_its_english_is_refused(tmp_path) -> None:
    (tmp_path / "x.toml").write_text('hello = { vi = "Xin chào" }\n', encoding="utf-8")
    try:
        Catalogue(tmp_path)
    except ValueError as exc:
        assert "'hello' has no en" in str(exc)
    else:
        raise AssertionError("a half-translated catalogue was accepted")


def test_the_browser_language_is_read_by_preference() -> None:
    assert browser_language("en-GB,en;q=0.9,vi;q=0.8") == "en"
    assert browser_language("fr-FR, vi;q=0.5, en;q=0.4") == "vi"
    assert browser_language("fr, de;q=0.5") is None


def _dependencies(route: APIRoute) -> set[object]:
    found, stack = set(), list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        found.add(dependency.call)
        stack.extend(dependency.dependencies)
    return found


def test_every_state_changing_route_checks_the_session_and_its_csrf_token() -> None:
    routes = [route for name in console_app.PAGES
              for route in importlib.import_module(name).router.routes]
    posts = [r for r in routes if isinstance(r, APIRoute) and r.methods - {"GET", "HEAD"}]
    assert len(posts) >= 10
    unguarded = [r.path for r in posts if signed_in not in _dependencies(r)]
    assert unguarded == ["/sign-in"]  # checks its own (pre-session) token
