"""Every way out the domain names in a refusal (an error's `hint`) is worded by each front
end: a hint only the CLI words leaves an API client or a console user with the bare
refusal."""

from __future__ import annotations

import ast
from pathlib import Path

from outages.api import errors as api_errors
from outages.cli import errors as cli_errors
from outages.console.pages import catalogue, refusal
from outages.errors import NotFound, OutagesError

ROOT = Path(__file__).resolve().parents[1]


def hints_given() -> dict[str, str]:
    """Hint keys in the source, each with where it is given: string constants passed as
    `hint=` or `..._hint=` (click's `param_hint` names an option, and a sentence is a
    response's text, not a key)."""
    found: dict[str, str] = {}
    for path in sorted([*(ROOT / "outages").rglob("*.py"), *(ROOT / "geo").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.keyword) or node.arg is None:
                continue
            if node.arg != "hint" and not node.arg.endswith("_hint"):
                continue
            for key in _keys(node.value):
                found.setdefault(key, f"{path.relative_to(ROOT)}:{node.value.lineno}")
    return found


def _keys(value: ast.expr) -> list[str]:
    """The keys an argument may be: a constant, or either branch of `a if test else b`."""
    if isinstance(value, ast.IfExp):
        return [*_keys(value.body), *_keys(value.orelse)]
    if isinstance(value, ast.Constant) and isinstance(value.value, str) \
            and value.value.isidentifier():
        return [value.value]
    return []


def test_the_walk_finds_the_hints_of_each_kind_of_call() -> None:
    given = hints_given()
    # hint= on an error, a conditional choice of two, and a helper's started_hint=
    assert {"allow_empty", "start_cut", "confirm_fault", "extend_cut", "repair"} <= set(given)


def test_every_hint_the_domain_gives_has_a_cli_and_an_api_wording() -> None:
    given = hints_given()
    assert {k: v for k, v in given.items() if k not in cli_errors.HINTS} == {}
    assert {k: v for k, v in given.items() if k not in api_errors.HINTS} == {}
    # and no wording is left for a hint nothing gives (a renamed key)
    assert set(cli_errors.HINTS) == set(given) == set(api_errors.HINTS)


def test_each_front_end_appends_its_wording() -> None:
    refused: OutagesError = NotFound("no cut with id 7", field="id", hint="list_cuts")
    assert api_errors.describe(refused) == "no cut with id 7: see GET /cuts"
    assert cli_errors.describe(refused) == "ID: no cut with id 7: see `outages cuts list`"


def test_every_hint_the_domain_gives_has_a_console_wording_in_both_languages() -> None:
    given = hints_given()
    worded = {key.removeprefix("hint_"): value for key, value in catalogue().entries.items()
              if key.startswith("hint_")}
    assert {k: v for k, v in given.items()
            if set(worded.get(k, {})) != {"vi", "en"}} == {}
    assert set(worded) == set(given)


def test_the_console_appends_its_wording() -> None:
    refused: OutagesError = NotFound("no cut with id 7", field="id", hint="list_cuts")
    assert refusal(refused, "en") == "no cut with id 7. See the Cuts list"
    assert refusal(refused, "vi") == "no cut with id 7. Xem danh sách Lịch cắt điện"
