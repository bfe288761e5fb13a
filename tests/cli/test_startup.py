"""The CLI loads only what a command uses: help and listings start without the server,
plotting, provider or migration stacks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("fastapi", "starlette", "uvicorn", "matplotlib", "twilio", "alembic")

# Runs the console script's entry point in-process, then reports its exit code and every
# module it left loaded, after a marker line that no command prints.
WRAPPER = """
import sys
from outages.cli import main
sys.argv = ["outages", *sys.argv[1:]]
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code or 0
print("==modules==", code)
print("\\n".join(sorted(sys.modules)))
"""


def _run(env: dict[str, str], *args: str) -> tuple[int, str, set[str]]:
    result = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True,
                            text=True, env={**os.environ, **env}, timeout=120, check=False)
    output, marker, rest = result.stdout.partition("==modules==")
    assert marker, result.stderr
    code, _, modules = rest.partition("\n")
    return int(code), output, set(modules.split())


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_help_loads_no_heavy_stack(test_env: dict[str, str]) -> None:
    code, output, modules = _run(test_env, "--help")
    assert code == 0 and "cuts" in output and "serve" in output
    assert _heavy(modules) == []
    # --help touches neither settings, the database nor the typed results
    assert "sqlalchemy" not in modules and "pydantic" not in modules


@pytest.mark.parametrize("command", [("cuts", "list"), ("faults", "list", "--json")])
def test_listing_on_a_current_database_loads_no_heavy_stack(
        test_env: dict[str, str], command: tuple[str, ...]) -> None:
    # test_env's database is already migrated: this is the everyday case.
    code, output, modules = _run(test_env, *command)
    assert code == 0, output
    assert "sqlalchemy" in modules  # the command did reach the database
    assert _heavy(modules) == []


def test_an_empty_database_is_still_migrated_on_first_use(empty_db_url: str) -> None:
    code, output, modules = _run({"OUTAGES_DATABASE_URL": empty_db_url}, "cuts", "list")
    assert code == 0, output
    assert "alembic" in modules
    code, _, modules = _run({"OUTAGES_DATABASE_URL": empty_db_url}, "cuts", "list")
    assert code == 0 and _heavy(modules) == []
