"""The New cut page and the map's JSON: preview, layers, density, creation; in a browser,
drawing with the mouse and the acceptance flow (upload, preview, create)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from outages import db
from outages.console.pages import catalogue
from outages.models import AuditEntry, Customer, Outage
from tests.console.conftest import Console, sign_in
from tests.console.map_city import BOTH, city_console, cli_count, cli_preview, local_input
from tests.lifecycle.conftest import square

pytestmark = pytest.mark.real_clock


@pytest.fixture(scope="module")
def console(console_db: str) -> Iterator[Console]:
    yield from city_console(console_db)


def test_preview_matches_area_preview(console: Console, signed_client: Any,
                                      tmp_path: Path) -> None:
    client, csrf = signed_client("viewer")
    area = square(105.825, 21.015, 105.851, 21.031)
    answer = client.post("/console/map/preview", json={"area": area},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    same = cli_preview(console, json.dumps(area), tmp_path)
    assert shown["count"] == same["count"] > 100
    assert (shown["by_district"], shown["by_feeder"]) == (same["by_district"], same["by_feeder"])
    assert {"Ba Đình", "Hoàn Kiếm"} <= set(shown["by_district"])
    assert {(m["channel"], m["language"]) for m in shown["messages"]} >= {("sms", "vi"),
                                                                        ("sms", "en")}
    assert shown["totals"]["messages"] == shown["count"]  # everyone has a phone
    picked = client.post("/console/map/preview", json={"named_areas": [1, 2]},
                         headers={"X-CSRF-Token": csrf}).json()
    assert picked["count"] == cli_count(console, json.dumps(BOTH), tmp_path) >= 21 * 21
    assert picked["area_name"] == "West, East"
    by_feeder = client.post("/console/map/preview", json={"feeders": ["F0"]},
                            headers={"X-CSRF-Token": csrf}).json()
    assert by_feeder["count"] == 7 * 21 and by_feeder["by_feeder"] == {"F0": 147}


def test_preview_refusals_and_problems(console: Console, signed_client: Any) -> None:
    client, csrf = signed_client("dispatcher")
    bowtie = {"type": "Polygon", "coordinates": [[[105.82, 21.01], [105.83, 21.02],
                                                  [105.83, 21.01], [105.82, 21.02],
                                                  [105.82, 21.01]]]}
    bad = client.post("/console/map/preview", json={"area": bowtie},
                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and bad.json()["field"] == "area"
    assert "self-intersection" in bad.json()["detail"]
    soon = client.post("/console/map/preview", headers={"X-CSRF-Token": csrf}, json={
        "named_areas": [1], "start": local_input(1, 8), "end": local_input(1, 12)}).json()
    assert [p["field"] for p in soon["problems"]] == ["start"]
    # What creating it would refuse besides the times: urgency without its reason, and a
    # reason for urgency the cut does not claim.
    for urgent, because, message in (
            (True, None, "an urgent cut needs an urgent reason saying why the notice period "
                         "cannot be kept"),
            (False, "storm", "an urgent reason is only used for an urgent cut")):
        answer = client.post("/console/map/preview", headers={"X-CSRF-Token": csrf}, json={
            "named_areas": [1], "reason": "r", "urgent": urgent,
            "urgent_reason": because}).json()
        assert [(p["field"], p["message"]) for p in answer["problems"]] == \
            [("urgent_reason", message)]
    unknown = client.post("/console/map/preview", json={"named_areas": [99]},
                          headers={"X-CSRF-Token": csrf})
    assert unknown.status_code == 404 and unknown.json()["field"] == "named_areas"
    no_csrf = client.post("/console/map/preview", json={"named_areas": [1]})
    assert no_csrf.status_code == 403


def test_layers_and_density(console: Console, signed_client: Any) -> None:
    client, _csrf = signed_client("viewer")
    areas = client.get("/console/map/areas.geojson").json()
    assert [f["properties"]["name"] for f in areas["features"]] == ["East", "West"]
    grid_answer = client.get("/console/map/density.json",
                             params={"bbox": "105.7,20.9,106.0,21.2", "zoom": 13})
    assert grid_answer.status_code == 200
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        everyone = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
    engine.dispose()
    assert grid_answer.json()["total"] == everyone >= 21 * 21
    refused = client.get("/console/map/density.json", params={"bbox": "1,2,3", "zoom": 13})
    assert refused.status_code == 422 and refused.json()["field"] == "bbox"
    for path in ("/console/map/outages.geojson", "/console/map/reports.geojson"):
        assert client.get(path).json()["type"] == "FeatureCollection"
    anonymous = httpx.get(console.url + "/map/outages.geojson", follow_redirects=False)
    assert anonymous.status_code == 303


def test_create_refusals_store_nothing(console: Console, signed_client: Any) -> None:
    client, csrf = signed_client("dispatcher")
    body = {"named_areas": [1], "start": local_input(1, 8), "end": local_input(1, 12),
            "reason": "Bảo dưỡng"}
    soon = client.post("/console/cuts/new", json=body, headers={"X-CSRF-Token": csrf})
    assert soon.status_code == 422 and soon.json()["field"] == "start"
    no_reason = client.post("/console/cuts/new", headers={"X-CSRF-Token": csrf},
                            json={**body, "start": local_input(8, 8), "end": local_input(8, 12),
                                  "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    viewer, viewer_csrf = signed_client("viewer")
    forged = viewer.post("/console/cuts/new", json=body, headers={"X-CSRF-Token": viewer_csrf})
    assert forged.status_code == 403
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Outage)).scalar_one() == 0
    engine.dispose()


def test_acceptance_upload_preview_create(console: Console, page: Any,
                                          tmp_path: Path) -> None:
    area = {"type": "FeatureCollection", "features": [{"type": "Feature",
            "properties": {"name": "Phố thử nghiệm"},
            "geometry": square(105.8255, 21.0155, 105.8345, 21.0245)}]}
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps(area, ensure_ascii=False), encoding="utf-8")
    expected = cli_count(console, path.read_text(encoding="utf-8"), tmp_path)
    sign_in(page, console, "dispatcher")
    page.get_by_role("link", name="New cut").click()
    page.get_by_label("Upload area (GeoJSON)").set_input_files(str(path))
    page.get_by_text(f"{expected} customers affected").wait_for()
    page.get_by_label("Start").fill(local_input(7, 8))
    page.get_by_label("End").fill(local_input(7, 16))
    page.get_by_label("Reason", exact=True).fill("Thay máy biến áp")
    page.get_by_role("button", name="Create cut").click()
    heading = page.get_by_role("heading", name=re.compile(r"Cut #\d+"))
    heading.wait_for()
    cut_id = int(re.search(r"#(\d+)", heading.inner_text()).group(1))  # type: ignore[union-attr]
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        row = conn.execute(select(Outage).where(Outage.id == cut_id)).one()
        audit = conn.execute(select(AuditEntry.source, AuditEntry.actor)
                             .where(AuditEntry.action == "planned.created")).all()
    engine.dispose()
    assert row.area_name == "Phố thử nghiệm" and row.reason == "Thay máy biến áp"
    assert ("console", "dispatcher") in [tuple(a) for a in audit]
    expect(page.get_by_text("Cut created; customers will be told.")).to_be_visible()


def test_draw_polygon_with_the_mouse(console: Console, page: Any, tmp_path: Path) -> None:
    sign_in(page, console, "dispatcher")
    page.goto(console.url + "/cuts/new")
    page.locator("#ops-map[data-loaded=true]").wait_for()
    box = page.get_by_role("region", name="Map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.get_by_role("button", name="Draw polygon").click()
    corners = [(-60, -40), (50, -50), (70, 45), (-40, 55)]
    for dx, dy in [*corners, corners[0]]:  # back on the first corner closes the polygon
        page.mouse.move(cx + dx, cy + dy, steps=4)  # as a hand would: Geoman follows moves
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(150)
    drawn = page.get_by_label("The area as GeoJSON (to copy)")
    expect(drawn).not_to_have_value("")
    count = cli_count(console, drawn.input_value(), tmp_path)
    assert count > 20
    page.get_by_text(f"{count} customers affected").wait_for()


def test_pages_in_vietnamese(console: Console, signed_client: Any) -> None:
    client, csrf = signed_client("dispatcher")
    switched = client.post("/console/language", data={"lang": "vi", "next": "/console/cuts/new",
                                                      "csrf_token": csrf})
    assert switched.status_code == 303
    new_cut = client.get("/console/cuts/new").text
    assert "Tải lên khu vực (GeoJSON)" in new_cut and "Tạo lịch cắt" in new_cut
    assert "Upload area (GeoJSON)" not in new_cut
    incidents = client.get("/console/incidents").text
    assert "Sự cố đang xử lý" in incidents and "Open incidents" not in incidents


def test_create_refusal_gives_the_way_out_as_the_other_front_ends_do(
        console: Console, signed_client: Any) -> None:
    """A start inside the notice period: the CLI adds "pass --urgent --urgent-reason", the
    API '"urgent": true with an "urgent_reason"', the cut page "tick Urgent and give the
    urgent reason". The New cut page shows the refusal beside the field (its `errors`) and
    must give the same way out."""
    client, csrf = signed_client("dispatcher")
    body = {"named_areas": [1], "start": local_input(1, 8), "end": local_input(1, 12),
            "reason": "Bảo dưỡng"}
    soon = client.post("/console/cuts/new", json=body, headers={"X-CSRF-Token": csrf})
    assert soon.status_code == 422
    [shown] = soon.json()["errors"]
    assert shown["field"] == "start"
    way_out = catalogue().entries["hint_urgent"].values()  # in the dispatcher's language
    assert any(words in shown["reason"] for words in way_out), shown
    assert any(words in soon.json()["detail"] for words in way_out)
