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


def test_refusals_other_than_422_are_declared_where_they_can_happen(client: Any,
                                                                    headers: Any) -> None:
    doc = client.get("/openapi.json").json()
    cancel = doc["paths"]["/cuts/{id}/cancel"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(cancel)
    assert cancel["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/HTTPValidationError")
    public = doc["paths"]["/public/cuts"]["get"]["responses"]
    assert not {"401", "403", "404", "409"} & set(public)  # no token, no id
    # What is declared is what comes back.
    missing = client.post("/cuts/1/cancel", json={"reason": "x"})
    assert missing.status_code == 401 and set(missing.json()) == {"detail", "field", "errors"}
    unknown = client.post("/cuts/999999/cancel", json={"reason": "x"},
                          headers=headers["dispatcher"])
    assert unknown.status_code == 404 and set(unknown.json()) == {"detail", "field", "errors"}
