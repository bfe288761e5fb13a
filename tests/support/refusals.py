"""Every refusal the API answers during the suite is checked for CLI words: a 4xx JSON body
names the request's fields and the API's way out, never a CLI option (`--area`) or a command
line (`outages cuts list`). Loaded for the whole suite by tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

CLI_WORDS = ("--", "outages ")

# How many refusals were checked, so a test can tell that the check ran.
seen: list[int] = [0]


def texts(body: Any) -> list[str]:
    """The message and field names of an error body, from its top and its `errors` list."""
    if not isinstance(body, dict):
        return []
    items = [body, *(e for e in body.get("errors") or [] if isinstance(e, dict))]
    return [str(item[key]) for item in items for key in ("detail", "field", "reason")
            if item.get(key) is not None]


def cli_words(body: Any) -> list[str]:
    return [text for text in texts(body) if any(word in text for word in CLI_WORDS)]


def check_refusal(response: Any) -> None:
    if not 400 <= response.status_code < 500:
        return
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    seen[0] += 1
    found = cli_words(response.json())
    assert not found, f"{response.request.method} {response.request.url} answered " \
                      f"{response.status_code} in CLI words: {found}"


@pytest.fixture(autouse=True)
def _refusals_speak_no_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original = TestClient.request

    def checked(self: TestClient, *args: Any, **kwargs: Any) -> Any:
        response = original(self, *args, **kwargs)
        check_refusal(response)
        return response

    monkeypatch.setattr(TestClient, "request", checked)
    yield
