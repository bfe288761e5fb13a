"""What only roles with personal data may read, and what the public never learns, over HTTP:
a caller's words and home, and where a few reporting customers live."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from shapely.geometry import shape

from outages.timeutil import utcnow
from tests.api.conftest import square

TEXT = "no power at home, call me 0987654321"


def _report(client: TestClient, headers, **body) -> int:
    answer = client.post("/faults/reports", headers=headers["dispatcher"], json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["outage_id"])


def _preview(client: TestClient, headers, outage: str, language: str) -> str:
    answer = client.get("/notices/preview", params={outage.split("=")[0]: outage.split("=")[1],
                                                    "language": language},
                        headers=headers["viewer"])
    assert answer.status_code == 200, answer.text
    return "\n".join(m["body"] for m in answer.json()["messages"])


def test_a_reports_text_and_exact_place_are_for_roles_with_personal_data(
        client, headers, people) -> None:
    fault = _report(client, headers, customer="PD0001", text=TEXT)
    _report(client, headers, lon=105.8558, lat=21.0266, text="den tat het")
    for role in ("viewer", "engineer"):
        shown = client.get(f"/faults/{fault}", headers=headers[role]).json()
        assert [(r["text"], r["lon"], r["lat"]) for r in shown["reports"]] == [
            (None, 105.85, 21.03), (None, 105.86, 21.03)]
        assert "0987654321" not in str(shown) and "den tat" not in str(shown)
    full = client.get(f"/faults/{fault}", headers=headers["dispatcher"]).json()
    assert [(r["text"], r["lon"], r["lat"]) for r in full["reports"]] == [
        (TEXT, 105.852, 21.028), ("den tat het", 105.8558, 21.0266)]
    assert full["reason"] is None  # the incident does not carry the caller's words


def test_customers_homes_are_rounded_for_roles_without_personal_data(
        client, headers, people) -> None:
    for role in ("viewer", "engineer"):
        listed = client.get("/customers", params={"district": "Hoan Kiem"},
                            headers=headers[role]).json()["customers"]
        assert [(c["lon"], c["lat"]) for c in listed] == [(105.85, 21.03), (105.85, 21.03)]
        one = client.get("/customers/PD0001", headers=headers[role]).json()
        assert (one["lon"], one["lat"]) == (105.85, 21.03)
    exact = client.get("/customers/PD0001", headers=headers["dispatcher"]).json()
    assert (exact["lon"], exact["lat"]) == (105.852, 21.028)


def test_a_fault_reads_its_cause_or_the_dispatchers_reason_never_the_callers(
        client, headers, people) -> None:
    fault = _report(client, headers, customer="PD0003", text=TEXT)
    confirmed = client.post(f"/faults/{fault}/confirm", headers=headers["dispatcher"],
                            json={"area": square(105.82, 21.035), "cause": "weather",
                                  "reason_en": "a storm damaged the line"})
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["reason"], confirmed.json()["reason_en"]) == (
        None, "a storm damaged the line")
    vietnamese = _preview(client, headers, f"fault={fault}", "vi")
    english = _preview(client, headers, f"fault={fault}", "en")
    assert "thoi tiet xau" in vietnamese and "thời tiết xấu" in vietnamese  # SMS, email
    assert "a storm damaged the line" in english
    assert "0987654321" not in vietnamese + english


def test_a_cut_takes_a_reason_in_english(client, headers, people, cli) -> None:
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": f"{day} 08:00",
        "end": f"{day} 12:00",
        "reason": "Bảo dưỡng đường dây 22kV", "reason_en": "22kV line maintenance"})
    assert created.status_code == 201, created.text
    cut = created.json()["id"]
    assert created.json()["reason_en"] == "22kV line maintenance"
    assert "22kV line maintenance" in _preview(client, headers, f"cut={cut}", "en")
    assert "Bao duong duong day 22kV" in _preview(client, headers, f"cut={cut}", "vi")


def test_an_automatic_area_around_few_callers_is_published_by_district_only(
        client, make_client, headers, people) -> None:
    fault = _report(client, headers, customer="PD0001", text=TEXT)
    saved = client.post(f"/faults/{fault}/confirm", headers=headers["dispatcher"],
                        json={"auto": True, "confirm": True})
    assert saved.status_code == 200, saved.text
    [published] = client.get("/public/outages").json()["outages"]
    assert published["area"] is None and published["districts"] == ["Hoan Kiem"]
    assert "105.85" not in str(published)
    [trusting] = make_client(OUTAGES_PUBLIC_MIN_COUNT="1").get("/public/outages").json()[
        "outages"]
    assert trusting["area"]["type"] == "Polygon"


def test_an_area_the_dispatcher_draws_is_published(client, headers, people) -> None:
    fault = _report(client, headers, customer="PD0003")
    drawn = client.post(f"/faults/{fault}/confirm", headers=headers["dispatcher"],
                        json={"area": square(105.82, 21.035)})
    assert drawn.status_code == 200, drawn.text
    [published] = client.get("/public/outages").json()["outages"]
    # Published, widened by public.blur_m (150 m): it holds the drawn area and reaches at
    # least 150 m beyond each side (0.00145 degrees of longitude at 21 degrees north).
    area, drawn = shape(published["area"]), shape(square(105.82, 21.035))
    assert area.contains(drawn)
    west, _south, _east, north = area.bounds
    assert 0.00144 < 105.81 - west < 0.0017 and 0.00135 < north - 21.045 < 0.0016


def test_a_redraw_to_the_area_around_one_callers_home_is_not_published(client, headers,
                                                                      people) -> None:
    """Confirmed over the dispatcher's own wide area (published), then redrawn to the
    automatic proposal drawn around the single caller's home: that one is not published,
    as it is not when confirm is sent it."""
    dispatcher = headers["dispatcher"]
    made = client.post("/faults/reports", json={"customer": "PD0003"}, headers=dispatcher)
    fault = made.json()["outage_id"]
    circle = client.post(f"/faults/{fault}/confirm", json={"auto": True},
                         headers=dispatcher).json()["area"]
    wide = client.post(f"/faults/{fault}/confirm", json={"area": square(105.82, 21.035, 0.02),
                                                       "cause": "equipment_failure"},
                       headers=dispatcher)
    assert wide.status_code == 200, wide.text
    assert client.get("/public/outages").json()["outages"][0]["area"] is not None
    resized = client.post(f"/faults/{fault}/resize", json={"area": circle}, headers=dispatcher)
    assert resized.status_code == 200, resized.text
    [shown] = client.get("/public/outages").json()["outages"]
    assert shown["area"] is None, shape(shown["area"]).centroid
