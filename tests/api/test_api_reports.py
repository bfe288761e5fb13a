"""Notices, the interruption log, outage durations and reliability reports over HTTP."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from outages.models import AuditEntry
from tests.api.test_api_cuts import HOAN_KIEM, _local

HISTORY = ("outage_id,customer_code,start,end,cause,planned\n"
           "X1,PD0001,2026-01-05 08:00,2026-01-05 09:30,weather,false\n"
           "X1,PD0002,2026-01-05 08:00,2026-01-05 08:03,weather,false\n"
           "X2,PD0003,2026-01-06T08:00+07:00,2026-01-06T10:00+07:00,,true\n"
           "X2,NOPE,2026-01-06 08:00,2026-01-06 10:00,,true\n")


@pytest.fixture
def history(client, headers, people) -> dict:
    response = client.post("/interruptions/import", headers=headers["admin"],
                           files={"file": ("history.csv", HISTORY.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_interruption_import_reports_rejects_and_audits(history, engine) -> None:
    assert (history["imported"], history["rejected"], history["outages_created"]) == (3, 1, 2)
    rejects = list(csv.DictReader(io.StringIO(history["rejects_csv"])))
    assert [r["customer_code"] for r in rejects] == ["NOPE"]
    assert "unknown customer 'NOPE'" in rejects[0]["reason"]
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action == "interruptions.imported")).all()
    assert actors == [("admin", "http")]


def test_export_streams_what_the_cli_writes(client, headers, history, cli) -> None:
    params = {"from": "2026-01-01", "to": "2026-01-31"}
    streamed = client.get("/interruptions/export", params=params, headers=headers["engineer"])
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/csv")
    assert streamed.text == cli("interruptions", "export", "--from", "2026-01-01", "--to",
                                "2026-01-31").stdout
    assert len(streamed.text.splitlines()) == 4
    as_json = client.get("/interruptions/export", params={**params, "format": "json"},
                         headers=headers["engineer"])
    rows = as_json.json()
    assert [r["customer_code"] for r in rows] == ["PD0001", "PD0002", "PD0003"]
    assert rows[1]["momentary"] is True and rows[0]["duration_minutes"] == 90
    one_day = client.get("/interruptions/export", params={"from": "2026-01-06", "to":
                                                          "2026-01-06", "format": "json"},
                         headers=headers["engineer"]).json()
    assert [r["customer_code"] for r in one_day] == ["PD0003"]
    bad = client.get("/interruptions/export", params={"from": "2026-02-30"},
                     headers=headers["engineer"])
    assert bad.status_code == 422 and bad.json()["field"] == "from"
    assert client.get("/interruptions/export", params={"format": "xml"},
                      headers=headers["engineer"]).status_code == 422


def test_durations_same_as_cli(client, headers, history, cli) -> None:
    api = client.get("/outages/durations", params={"from": "2026-01-01", "to": "2026-01-31"},
                     headers=headers["engineer"])
    assert api.status_code == 200
    expected = json.loads(cli("outages", "durations", "--from", "2026-01-01", "--to",
                              "2026-01-31", "--format", "json").stdout)
    assert api.json() == expected and len(expected) == 2
    as_csv = client.get("/outages/durations", params={"format": "csv"},
                        headers=headers["engineer"])
    assert as_csv.text.splitlines()[0].startswith("id,external_id,area_name")
    assert len(as_csv.text.splitlines()) == 3


def test_reliability_report_formats(client, headers, history, cli) -> None:
    params = {"from": "2026-01-01", "to": "2026-01-31"}
    api = client.get("/reports/reliability", params=params, headers=headers["engineer"])
    assert api.status_code == 200, api.text
    expected = json.loads(cli("report", "reliability", "--from", "2026-01-01", "--to",
                              "2026-01-31", "--format", "json").stdout)
    assert api.json() == expected
    csv_text = client.get("/reports/reliability", params={**params, "format": "csv",
                                                          "by": "district"},
                          headers=headers["engineer"])
    assert csv_text.status_code == 200 and "Hoan Kiem" in csv_text.text
    html = client.get("/reports/reliability", params={**params, "format": "html"},
                      headers=headers["admin"])
    assert html.status_code == 200 and "SAIFI" in html.text
    assert html.headers["content-type"].startswith("text/html")
    wrong = client.get("/reports/reliability", params={**params, "by": "colour"},
                       headers=headers["engineer"])
    assert wrong.status_code == 422 and "colour" in wrong.json()["detail"]
    backwards = client.get("/reports/reliability", params={"from": "2026-02-01",
                                                           "to": "2026-01-01"},
                           headers=headers["engineer"])
    assert backwards.status_code == 422
    missing = client.get("/reports/reliability", headers=headers["engineer"])
    assert missing.status_code == 422


def test_service_report_same_as_cli(client, headers, history, cli) -> None:
    api = client.get("/reports/service", headers=headers["engineer"])
    assert api.status_code == 200
    assert api.json() == json.loads(cli("report", "service", "--format", "json").stdout)


@pytest.mark.parametrize("path", ["/reports/service", "/reports/reliability?from=2026-01-01&"
                                  "to=2026-01-02", "/interruptions/export",
                                  "/outages/durations"])
def test_reports_are_for_engineers_and_admins(client, headers, path) -> None:
    for role in ("viewer", "dispatcher"):
        assert client.get(path, headers=headers[role]).status_code == 403
    assert client.get(path).status_code == 401
    assert client.get(path, headers=headers["admin"]).status_code == 200


def test_interruption_import_is_for_admins(client, headers) -> None:
    files = {"file": ("h.csv", HISTORY.encode(), "text/csv")}
    assert client.post("/interruptions/import", files=files,
                       headers=headers["engineer"]).status_code == 403


@pytest.fixture
def cut_with_notices(client, headers, people, app_settings) -> int:
    response = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": HOAN_KIEM, "start": _local(8, 8, app_settings.tz),
        "end": _local(8, 12, app_settings.tz), "reason": "Bao duong"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_notice_preview_list_and_stats(client, headers, cut_with_notices, cli) -> None:
    cut = cut_with_notices
    preview = client.get("/notices/preview", params={"cut": cut, "language": "vi"},
                         headers=headers["viewer"])
    assert preview.status_code == 200, preview.text
    assert preview.json() == json.loads(cli("notices", "preview", "--cut", str(cut),
                                            "--language", "vi", "--json").stdout)
    assert {m["language"] for m in preview.json()["messages"]} == {"vi"}
    listed = client.get("/notices", params={"outage": cut}, headers=headers["dispatcher"])
    rows = listed.json()
    assert rows and {r["outage_id"] for r in rows} == {cut}
    assert "+84912345001" in {r["recipient"] for r in rows}
    hidden = client.get("/notices", params={"outage": cut}, headers=headers["viewer"])
    assert "+8491" not in hidden.text and "example.vn" not in hidden.text
    assert len(hidden.json()) == len(rows)
    stats = client.get("/notices/stats", headers=headers["viewer"])
    assert stats.json() == json.loads(cli("notices", "stats", "--json").stdout)
    assert sum(stats.json()["by_status"].values()) == len(rows)


def test_notice_preview_errors(client, headers, cut_with_notices) -> None:
    cut = cut_with_notices
    neither = client.get("/notices/preview", headers=headers["viewer"])
    assert neither.status_code == 422 and neither.json()["field"] == "cut"
    both = client.get("/notices/preview", params={"cut": cut, "fault": cut},
                      headers=headers["viewer"])
    assert both.status_code == 422
    language = client.get("/notices/preview", params={"cut": cut, "language": "fr"},
                          headers=headers["viewer"])
    assert language.status_code == 422 and language.json()["field"] == "language"
    as_fault = client.get("/notices/preview", params={"fault": cut}, headers=headers["viewer"])
    assert as_fault.status_code == 404
    assert client.get("/notices/stats").status_code == 401


def test_a_history_file_that_is_not_utf8_is_refused_before_anything_is_stored(
        make_client, headers, people, engine) -> None:
    from sqlalchemy import func

    from outages.models import Interruption, Outage

    client = make_client(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    good = "".join(f"X{i},PD0001,2026-01-05 08:00,2026-01-05 09:30,weather,false\n"
                   for i in range(400))
    for bad, said in ((b"X999,PD0002,2026-01-05 08:00,2026-01-05 09:30,m\xe9t\xe9o,false\n",
                       "line 402 is not UTF-8 text"),
                      (b"X999,PD0002,2026-01-05 08:00,2026-01-05 09:30,\x00,false\n",
                       "line 402 holds a NUL byte")):
        body = ("outage_id,customer_code,start,end,cause,planned\n" + good).encode() + bad
        response = client.post("/interruptions/import", headers=headers["admin"],
                               files={"file": ("history.csv", body, "text/csv")})
        assert response.status_code == 422, response.text
        assert said in response.json()["detail"] and response.json()["field"] == "file"
    with engine.connect() as conn:
        stored = [conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in (Outage, Interruption)]
    assert stored == [0, 0]
