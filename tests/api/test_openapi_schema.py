"""/openapi.json describes every successful answer: a response schema per 2xx response."""

from __future__ import annotations

from typing import Any

from outages.api import create_app
from outages.settings import load_settings

# Operations whose 2xx answer has no body, and why (the README lists them too).
NO_BODY = {("post", "/twilio/status", "204"): "a status callback is answered with no content"}


def _document() -> dict[str, Any]:
    app = create_app(load_settings(environ={"OUTAGES_DATABASE_URL": "sqlite://"}))
    return app.openapi()


def _successes(document: dict[str, Any]) -> list[tuple[tuple[str, str, str], dict[str, Any]]]:
    return [((method, path, code), response)
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
            for code, response in operation["responses"].items() if code.startswith("2")]


def test_every_success_response_has_a_schema() -> None:
    successes = _successes(_document())
    missing = [key for key, response in successes if key not in NO_BODY and not any(
        media.get("schema") for media in (response.get("content") or {}).values())]
    assert successes and missing == []


def test_json_answers_are_described_by_their_fields() -> None:
    """A JSON body is a model with properties, or a list of them, not a bare object."""
    document = _document()
    loose = []
    for key, response in _successes(document):
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        if schema is None or key == ("get", "/interruptions/export", "200"):
            continue  # streamed row by row; described as an array of objects
        target = schema.get("items", schema)
        if "$ref" not in target and "anyOf" not in target:
            loose.append(key)
    assert loose == []


def test_the_allow_list_names_operations_that_exist() -> None:
    keys = {key for key, _ in _successes(_document())}
    assert set(NO_BODY) <= keys
