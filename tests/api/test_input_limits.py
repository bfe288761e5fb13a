"""Input a person could not have meant is refused with 422 naming the field, on every route:
dates outside 1970..2100, times further ahead than planned.max_ahead, text too long or with
control characters. Nothing is stored and no server error is answered."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outages.models import Outage
from outages.timeutil import utcnow
from tests.api.conftest import add_outage, square

HOAN_KIEM = square(105.8525, 21.0285, 0.002)  # PD0001 and PD0002
EXTREMES = ("9999-12-31", "0001-01-01", "1969-12-31", "2101-01-01")


def _local(days: float, hour: int, tz) -> str:
    when = (utcnow() + timedelta(days=days)).astimezone(tz)
    return when.replace(hour=hour, minute=0, second=0, microsecond=0).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def new_cut(app_settings) -> dict:
    return {"area": HOAN_KIEM, "start": _local(8, 8, app_settings.tz),
            "end": _local(8, 12, app_settings.tz), "reason": "Bao duong tram bien ap"}


@pytest.fixture
def fault_id(client, headers, people) -> int:
    report = client.post("/faults/reports", headers=headers["dispatcher"],
                         json={"customer": "PD0003"})
    assert report.status_code == 201, report.text
    return int(report.json()["outage_id"])


def _outages(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Outage.__table__)).scalar_one())


@pytest.mark.parametrize("day", EXTREMES)
def test_public_dates_out_of_range_are_422(client, people, day) -> None:
    listed = client.get("/public/cuts", params={"district": "Hoan Kiem", "date": day})
    assert listed.status_code == 422, listed.text
    assert listed.json()["field"] == "date" and "1970-01-01 and 2100-12-31" in listed.text
    page = client.get("/", params={"district": "Hoan Kiem", "date": day})
    assert page.status_code == 422 and 'id="error"' in page.text


@pytest.mark.parametrize("day", EXTREMES)
@pytest.mark.parametrize("path", ["/cuts", "/faults", "/audit", "/outages/durations",
                                  "/interruptions/export", "/reports/service"])
def test_from_and_to_out_of_range_are_422(client, headers, people, path, day) -> None:
    for field in ("from", "to"):
        response = client.get(path, params={field: day}, headers=headers["admin"])
        assert response.status_code == 422, (path, field, response.text)
        assert response.json()["field"] == field


@pytest.mark.parametrize("day", EXTREMES)
def test_reliability_dates_out_of_range_are_422(client, headers, day) -> None:
    response = client.get("/reports/reliability", params={"from": "2026-01-01", "to": day},
                          headers=headers["engineer"])
    assert response.status_code == 422 and response.json()["field"] == "to"


def test_export_to_year_9999_is_refused_before_anything_is_sent(client, headers,
                                                                 people) -> None:
    for fmt in ("csv", "json"):
        response = client.get("/interruptions/export",
                              params={"to": "9999-12-31", "format": fmt},
                              headers=headers["engineer"])
        assert response.status_code == 422 and response.json()["field"] == "to"


def test_empty_json_export_is_a_whole_array(client, headers) -> None:
    response = client.get("/interruptions/export", params={"format": "json"},
                          headers=headers["engineer"])
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("at", ["0001-01-01 00:00", "9999-12-31 23:59", "2101-01-01 10:00"])
def test_etr_out_of_range_is_422(client, headers, fault_id, at) -> None:
    response = client.post(f"/faults/{fault_id}/etr", json={"at": at},
                           headers=headers["dispatcher"])
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "at"


def test_etr_beyond_max_ahead_is_refused_and_nothing_is_sent(client, headers, fault_id,
                                                              app_settings) -> None:
    far = _local(400, 10, app_settings.tz)
    response = client.post(f"/faults/{fault_id}/etr", json={"at": far},
                           headers=headers["dispatcher"])
    assert response.status_code == 422 and response.json()["field"] == "at"
    assert "planned.max_ahead" in response.text
    shown = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"]).json()
    assert shown["etr"] is None
    near = client.post(f"/faults/{fault_id}/etr", json={"at": _local(300, 10, app_settings.tz)},
                       headers=headers["dispatcher"])
    assert near.status_code == 200, near.text


@pytest.mark.parametrize(("start", "end"), [("9999-12-31 20:00", "9999-12-31 22:00"),
                                            ("0001-01-01 08:00", "0001-01-01 10:00")])
def test_cut_out_of_range_is_422(client, headers, people, engine, new_cut, start, end) -> None:
    response = client.post("/cuts", json={**new_cut, "start": start, "end": end},
                           headers=headers["dispatcher"])
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "start"
    assert _outages(engine) == 0


def test_cut_beyond_max_ahead_is_refused(client, headers, people, engine, new_cut,
                                         app_settings) -> None:
    tz = app_settings.tz
    late = {**new_cut, "start": _local(400, 8, tz), "end": _local(400, 12, tz)}
    response = client.post("/cuts", json=late, headers=headers["dispatcher"])
    assert response.status_code == 422 and response.json()["field"] == "start"
    assert "planned.max_ahead" in response.text and _outages(engine) == 0
    cut = client.post("/cuts", json=new_cut, headers=headers["dispatcher"]).json()
    moved = client.post(f"/cuts/{cut['id']}/reschedule", json={
        "start": _local(400, 8, tz), "end": _local(400, 12, tz)}, headers=headers["dispatcher"])
    assert moved.status_code == 422 and moved.json()["field"] == "start"


def test_long_area_name_is_refused(client, headers, people, engine, new_cut) -> None:
    named = {"type": "Feature", "properties": {"name": "x" * 100_000}, "geometry": HOAN_KIEM}
    response = client.post("/cuts", json={**new_cut, "area": named},
                           headers=headers["dispatcher"])
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "area" and "at most 200" in response.text
    assert _outages(engine) == 0
    fine = {**named, "properties": {"name": "Phố Huế, ngõ 12"}}
    assert client.post("/cuts", json={**new_cut, "area": fine},
                       headers=headers["dispatcher"]).status_code == 201


@pytest.mark.parametrize("bad", ["Pho\x00Hue", "Pho\x07Hue", "Pho\x1bHue", "Pho\u202eHue"])
def test_control_characters_are_refused(client, headers, people, engine, new_cut,
                                        bad) -> None:
    named = {"type": "Feature", "properties": {"name": bad}, "geometry": HOAN_KIEM}
    for body, field in (({**new_cut, "area": named}, "area"),
                        ({**new_cut, "reason": bad}, "reason"),
                        ({**new_cut, "reason_en": bad}, "reason_en"),
                        ({**new_cut, "work": bad}, "work")):
        response = client.post("/cuts", json=body, headers=headers["dispatcher"])
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field and "control character" in response.text
    assert _outages(engine) == 0


def test_long_feeder_names_are_refused(client, headers, people, engine, new_cut,
                                       fault_id) -> None:
    response = client.post("/cuts", json={**new_cut, "feeders": ["F" * 10_000],
                                          "allow_empty": True}, headers=headers["dispatcher"])
    assert response.status_code == 422 and response.json()["field"] == "feeders"
    assert _outages(engine) == 1  # the fault only
    confirmed = client.post(f"/faults/{fault_id}/confirm", json={"feeders": ["F\x00"]},
                            headers=headers["dispatcher"])
    assert confirmed.status_code == 422 and confirmed.json()["field"] == "feeders"


def test_notes_and_reports_are_checked_too(client, headers, people, fault_id,
                                           app_settings) -> None:
    etr = client.post(f"/faults/{fault_id}/etr", headers=headers["dispatcher"],
                      json={"at": _local(1, 10, app_settings.tz), "note": "a\x00b"})
    assert etr.status_code == 422 and etr.json()["field"] == "note"
    report = client.post("/faults/reports", headers=headers["dispatcher"],
                         json={"customer": "PD0001", "text": "no power\x1b[31m"})
    assert report.status_code == 422 and report.json()["field"] == "text"
    multiline = client.post("/faults/reports", headers=headers["dispatcher"],
                            json={"customer": "PD0001", "text": "no power\nsince 8"})
    assert multiline.status_code == 201


def test_csv_exports_escape_formula_cells(client, headers, engine, people) -> None:
    start = utcnow() - timedelta(days=2)
    add_outage(engine, customers=[people["PD0001"]], kind="fault", status="restored",
               start=start, area_name="=HYPERLINK(\"http://x\")", reason="@SUM(1)",
               restored=[people["PD0001"]])
    durations = client.get("/outages/durations", params={"format": "csv"},
                           headers=headers["engineer"])
    assert durations.status_code == 200
    rows = list(csv.DictReader(io.StringIO(durations.text)))
    cells = [cell for row in rows for cell in row.values()]
    assert "'=HYPERLINK(\"http://x\")" in cells
    assert not [cell for cell in cells if cell and cell[0] in "=+@"]
