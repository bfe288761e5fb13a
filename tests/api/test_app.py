from __future__ import annotations

import json

from fastapi.testclient import TestClient

from outages.api import create_app


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_not_ready_when_the_schema_is_missing(make_settings, empty_db_url) -> None:
    settings = make_settings(OUTAGES_DATABASE_URL=empty_db_url)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
    assert response.status_code == 503
    assert "outages db upgrade" in response.json()["reason"]


def test_not_ready_when_the_database_is_unreachable(make_settings) -> None:
    settings = make_settings(
        OUTAGES_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and "unreachable" in response.json()["reason"]


def test_openapi_document_and_docs(client) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/healthz", "/readyz", "/users", "/audit", "/public/cuts",
                 "/public/cuts/lookup", "/public/outages", "/twilio/status", "/twilio/inbound"):
        assert path in document["paths"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_oversized_bodies_are_413(make_client, headers) -> None:
    small = make_client(OUTAGES_HTTP_MAX_BODY_BYTES="2048")
    big = json.dumps({"name": "x" * 5000, "role": "viewer"})
    declared = small.post("/users", content=big, headers={**headers["admin"],
                                                          "Content-Type": "application/json"})
    assert declared.status_code == 413 and "2048 bytes" in declared.json()["detail"]

    def chunks():
        for _ in range(10):
            yield b" " * 1000

    streamed = small.post("/users", content=chunks(), headers={
        **headers["admin"], "Content-Type": "application/json"})
    assert streamed.status_code == 413
    names = [u["name"] for u in small.get("/users", headers=headers["admin"]).json()]
    assert sorted(names) == ["admin", "dispatcher", "engineer", "viewer"]


def test_malformed_bodies_are_422_with_field_and_reason(client, headers) -> None:
    broken = client.post("/users", content=b'{"name": "lan", "role": ',
                         headers={**headers["admin"], "Content-Type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["field"].startswith("body") and broken.json()["detail"]
    missing = client.post("/users", json={"role": "viewer"}, headers=headers["admin"])
    assert missing.status_code == 422 and missing.json()["field"] == "body.name"
    assert missing.json()["errors"][0]["reason"]


def test_unknown_paths_are_404_json(client) -> None:
    response = client.get("/nothing-here")
    assert response.status_code == 404 and response.json()["detail"] == "Not Found"


def test_values_the_database_refuses_are_422_not_500(client, twilio_post, engine) -> None:
    # PostgreSQL refuses NUL characters in text; SQLite accepts them. Neither is a 500.
    refused = 422 if engine.dialect.name == "postgresql" else 200
    # The typed district is matched against the registry's names in Python and never
    # reaches the database: it simply names no district.
    response = client.get("/public/cuts", params={"district": "Hoan\x00Kiem",
                                                  "date": "2030-03-04"})
    assert response.status_code == 200 and response.json()["cuts"] == []
    inbound = twilio_post("/twilio/inbound", {"From": "+849\x00", "Body": "STOP"})
    assert inbound.status_code == refused
    assert client.get("/public/outages").status_code == 200
