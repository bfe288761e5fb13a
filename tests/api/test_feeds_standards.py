"""The open feeds keep to their standards and tell what the page tells: an extended cut's new
end, the districts of a cancelled one, counterclockwise rings, an author, each language's
page, no character XML refuses."""

from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import feedparser
import icalendar
from shapely.geometry import shape

from outages.timeutil import utcnow
from tests.api.conftest import add_outage, square

ATOM = "{http://www.w3.org/2005/Atom}"


def _local(days: int, hour: int) -> str:
    day = (utcnow() + timedelta(days=days)).date().isoformat()
    return f"{day} {hour:02d}:00"


def _create_started_and_extended_cut(client, headers) -> tuple[int, str]:
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(10, 8), "end": _local(10, 12),
        "reason": "Bảo dưỡng đường dây", "reason_en": "Line maintenance"})
    assert created.status_code == 201, created.text
    cut = created.json()["id"]
    started = client.post(f"/cuts/{cut}/start", headers=headers["dispatcher"], json={})
    assert started.status_code == 200, started.text
    new_end = _local(11, 18)  # local wall-clock time, a day after the planned end
    extended = client.post(f"/cuts/{cut}/extend", headers=headers["dispatcher"],
                           json={"end": new_end, "note": "Sự cố phát sinh"})
    assert extended.status_code == 200, extended.text
    return cut, new_end


def test_ics_dtend_follows_an_extended_cut(client, headers, people) -> None:
    _cut, new_end = _create_started_and_extended_cut(client, headers)
    answer = client.get("/public/feeds/cuts.ics", params={"customer": "PD0001"})
    [event] = icalendar.Calendar.from_ical(answer.content).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 3  # created, started, extended
    from datetime import datetime
    from zoneinfo import ZoneInfo
    expected = datetime.fromisoformat(new_end).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    # The calendar must show when power is now expected back (the GeoJSON/CAP do).
    assert event.decoded("DTEND") == expected, (event.decoded("DTEND"), expected)


def test_atom_extended_entry_tells_the_new_end(client, headers, people) -> None:
    _cut, new_end = _create_started_and_extended_cut(client, headers)
    parsed = feedparser.parse(client.get("/public/feeds/atom.xml",
                                         params={"lang": "en"}).content)
    newest = parsed.entries[0]
    assert newest.title.startswith("Extended"), newest.title
    day, hour = new_end.split(" ")
    y, m, d = day.split("-")
    shown = f"{d}/{m}/{y} {hour}"  # the en feed's "%d/%m/%Y %H:%M"
    assert shown in newest.summary, newest.summary


def test_geojson_current_outage_polygon_follows_the_right_hand_rule(client, engine,
                                                                   people) -> None:
    # RFC 7946 section 3.1.6: exterior rings MUST be counterclockwise.
    add_outage(engine, customers=list(people.values()), kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), area=square(105.84, 21.04, 0.03))
    collection = json.loads(client.get("/public/feeds/cuts.geojson").content)
    [feature] = collection["features"]
    assert shape(square(105.84, 21.04, 0.03)).exterior.is_ccw  # drawn counterclockwise
    assert shape(feature["geometry"]).exterior.is_ccw, feature["geometry"]["coordinates"][0][:4]


def test_atom_cancellation_entry_names_the_districts(client, headers, people) -> None:
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(10, 8), "end": _local(10, 12),
        "reason": "Bảo dưỡng", "reason_en": "Maintenance"})
    assert created.status_code == 201, created.text
    before = feedparser.parse(client.get("/public/feeds/atom.xml?lang=en").content)
    assert "Districts: Hoan Kiem" in before.entries[0].summary
    cut = created.json()["id"]
    assert client.post(f"/cuts/{cut}/cancel", headers=headers["dispatcher"],
                       json={"reason": "Thời tiết xấu"}).status_code == 200
    after = feedparser.parse(client.get("/public/feeds/atom.xml?lang=en").content)
    cancelled = after.entries[0]
    assert cancelled.title.startswith("Cancelled")
    # The calendar of the cancelled cut still names the district (public_feed._cancelled_counts)
    [event] = icalendar.Calendar.from_ical(client.get(
        "/public/feeds/cuts.ics?district=Hoan%20Kiem&lang=en").content).walk("VEVENT")
    assert "Districts: Hoan Kiem" in str(event["DESCRIPTION"])
    assert "Districts: Hoan Kiem" in cancelled.summary, cancelled.summary


def test_atom_feeds_have_an_author(client, headers, people) -> None:
    # RFC 4287 4.1.1: atom:feed MUST contain an atom:author unless every entry has one.
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(10, 8), "end": _local(10, 12),
        "reason": "Bảo dưỡng"})
    assert created.status_code == 201, created.text
    missing = []
    for path in ("/public/feeds/atom.xml?lang=vi", "/public/feeds/cap.xml"):
        root = ET.fromstring(client.get(path).content)
        entries = root.findall(f"{ATOM}entry")
        assert entries, path
        if root.find(f"{ATOM}author") is None and not all(
                e.find(f"{ATOM}author") is not None for e in entries):
            missing.append(path)
    assert missing == [], f"no atom:author in the feed or its entries: {missing}"


def test_english_page_lookups_give_the_english_reason(client, headers, people) -> None:
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(6, 8), "end": _local(6, 12),
        "reason": "Bảo dưỡng đường dây", "reason_en": "Line maintenance"})
    assert created.status_code == 201, created.text
    day = _local(6, 8).split(" ")[0]
    listed = client.get("/", params={"lang": "en"}).text
    assert "Line maintenance" in listed  # the page's list of upcoming cuts: English
    by_district = client.get("/", params={"lang": "en", "district": "Hoan Kiem",
                                          "date": day}).text
    by_code = client.get("/", params={"lang": "en", "customer": "PD0001"}).text
    import re
    tables = {name: re.search(r'<table id="(?:cuts|lookup)".*?</table>', html, re.S).group()
              for name, html in (("district", by_district), ("customer", by_code))}
    wrong = {name: "Bảo dưỡng đường dây" in table for name, table in tables.items()}
    assert wrong == {"district": False, "customer": False}, tables


def test_cap_english_info_links_to_the_english_page(make_client, headers, people) -> None:
    client = make_client(OUTAGES_HTTP_PUBLIC_BASE_URL="https://dien.example.vn")
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(10, 8), "end": _local(10, 12),
        "reason": "Bảo dưỡng", "reason_en": "Maintenance"})
    assert created.status_code == 201, created.text
    cap = "{urn:oasis:names:tc:emergency:cap:1.2}"
    root = ET.fromstring(client.get("/public/feeds/cap.xml").content)
    webs = {info.findtext(f"{cap}language"): info.findtext(f"{cap}web")
            for info in root.iter(f"{cap}info")}
    assert webs == {"vi-VN": "https://dien.example.vn/?lang=vi",
                    "en-US": "https://dien.example.vn/?lang=en"}, webs


def test_a_character_xml_refuses_never_reaches_the_feeds(client, headers, people) -> None:
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(10, 8), "end": _local(10, 12),
        "reason": "Bảo dưỡng \ufffe"})
    assert created.status_code == 422 and created.json()["field"] == "reason"
    for path in ("/public/feeds/cap.xml", "/public/feeds/atom.xml"):
        answer = client.get(path)
        assert answer.status_code == 200
        ET.fromstring(answer.content)  # well-formed
