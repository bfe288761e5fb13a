"""Refusals over HTTP as /openapi.json declares them."""

from __future__ import annotations

from typing import Any


def test_every_422_is_declared_with_the_body_it_has(client: Any) -> None:
    """/openapi.json says what a refusal carries: a client generated from it reads detail,
    field and errors, not FastAPI's list of {loc, msg, type}."""
    doc = client.get("/openapi.json").json()
    declared = doc["paths"]["/public/cuts"]["get"]["responses"]["422"]
    name = declared["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][name]
    answer = client.get("/public/cuts").json()  # district and date missing
    assert set(schema["required"]) == set(answer) == {"detail", "field", "errors"}
    assert schema["properties"]["detail"]["type"] == "string"
    assert isinstance(answer["detail"], str) and answer["field"] == "query.district"
    assert all(set(item) == {"field", "reason"} for item in answer["errors"])
