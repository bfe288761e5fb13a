"""The open feeds parsed back as their readers would: GeoJSON, iCalendar, CAP 1.2, Atom;
and one cut's whole life (created, rescheduled, cancelled) seen in each of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree as ET

import feedparser
import icalendar
import pytest
import time_machine

from outages.timeutil import utcnow
from tests.api.conftest import add_outage, square

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
CAP_ALERT_ORDER = ["identifier", "sender", "sent", "status", "msgType", "source", "scope",
                   "restriction", "addresses", "code", "note", "references", "incidents", "info"]
CAP_INFO_ORDER = ["language", "category", "event", "responseType", "urgency", "severity",
                  "certainty", "audience", "eventCode", "effective", "onset", "expires",
                  "senderName", "headline", "description", "instruction", "web", "contact",
                  "parameter", "resource", "area"]
CAP_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"


def _local(days: int, hour: int) -> str:
    day = (utcnow() + timedelta(days=days)).date().isoformat()
    return f"{day} {hour:02d}:00"


def _alerts(client) -> dict[str, ET.Element]:
    """The CAP feed's alerts by their outage reference, after checking the CAP rules."""
    answer = client.get("/public/feeds/cap.xml")
    assert answer.status_code == 200, answer.text
    root = ET.fromstring(answer.content)
    assert root.tag == f"{ATOM}feed"
    found = {}
    for entry in root.findall(f"{ATOM}entry"):
        [alert] = entry.find(f"{ATOM}content")
        _check_cap(alert)
        found[alert.findtext(f"{CAP}identifier").split(".")[0]] = alert
    return found


def _check_cap(alert: ET.Element) -> None:
    import re
    assert alert.tag == f"{CAP}alert"
    names = [child.tag.removeprefix(CAP) for child in alert]
    assert names == sorted(names, key=CAP_ALERT_ORDER.index), names
    for required in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        assert alert.findtext(f"{CAP}{required}"), required
    assert re.match(CAP_TIME, alert.findtext(f"{CAP}sent"))
    assert alert.findtext(f"{CAP}status") == "Actual"
    assert alert.findtext(f"{CAP}msgType") in ("Alert", "Update", "Cancel")
    assert not any(c in alert.findtext(f"{CAP}identifier") for c in " ,<&")
    infos = alert.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["vi-VN", "en-US"]
    for info in infos:
        names = [child.tag.removeprefix(CAP) for child in info]
        assert names == sorted(names, key=CAP_INFO_ORDER.index), names
        assert info.findtext(f"{CAP}category") == "Infra"
        for required in ("event", "urgency", "severity", "certainty"):
            assert info.findtext(f"{CAP}{required}"), required
        for when in ("effective", "onset", "expires"):
            if info.find(f"{CAP}{when}") is not None:
                assert re.match(CAP_TIME, info.findtext(f"{CAP}{when}")), when
        for polygon in info.iterfind(f"{CAP}area/{CAP}polygon"):
            pairs = polygon.text.split(" ")
            assert len(pairs) >= 4 and pairs[0] == pairs[-1]
            for pair in pairs:
                lat, lon = (float(x) for x in pair.split(","))
                assert -90 <= lat <= 90 and -180 <= lon <= 180
                assert 8 < lat < 24 and 102 < lon < 110  # lat first, in Vietnam


def _events(client, **params) -> list[icalendar.Event]:
    answer = client.get("/public/feeds/cuts.ics", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


def _features(client) -> dict[str, dict]:
    answer = client.get("/public/feeds/cuts.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    collection = json.loads(answer.content)
    assert collection["type"] == "FeatureCollection"
    return {f["properties"]["id"]: f for f in collection["features"]}


def _atom(client, lang: str = "vi") -> feedparser.FeedParserDict:
    answer = client.get("/public/feeds/atom.xml", params={"lang": lang})
    assert answer.status_code == 200
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def test_a_cuts_whole_life_in_every_feed(client, headers, people) -> None:
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(10, 8), "end": _local(10, 12),
        "reason": "Bảo dưỡng đường dây", "reason_en": "Line maintenance"})
    assert created.status_code == 201, created.text
    cut = created.json()["id"]
    ref = created.json().get("ref", None)

    features = _features(client)
    [(ref, feature)] = [(k, v) for k, v in features.items() if ref in (None, k)]
    props = feature["properties"]
    assert (props["kind"], props["status"], props["revision"]) == ("planned", "scheduled", 1)
    assert props["districts"] == ["Hoan Kiem"] and props["customers_affected"] == "<5"
    assert props["reason"] == "Bảo dưỡng đường dây" and props["end"].endswith("12:00:00+07:00")
    assert feature["geometry"] == square(105.8525, 21.0285, 0.002)  # a plan is public as drawn
    [event] = _events(client, district="hoan kiem")
    uid = str(event["UID"])
    assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert "Bảo dưỡng đường dây" in str(event["DESCRIPTION"])
    [english] = _events(client, district="Hoan Kiem", lang="en")
    assert "Line maintenance" in str(english["DESCRIPTION"])
    assert "fewer than 5" in str(english["DESCRIPTION"])
    alert = _alerts(client)[ref]
    assert alert.findtext(f"{CAP}msgType") == "Alert"
    assert alert.find(f"{CAP}references") is None
    sent_first = alert.findtext(f"{CAP}sent")
    sender = alert.findtext(f"{CAP}sender")

    moved = client.post(f"/cuts/{cut}/reschedule", headers=headers["dispatcher"],
                        json={"start": _local(11, 9), "end": _local(11, 11)})
    assert moved.status_code == 200, moved.text
    assert _features(client)[ref]["properties"]["revision"] == 2
    [event] = _events(client, customer="PD0001")
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=2)
    alert = _alerts(client)[ref]
    assert alert.findtext(f"{CAP}msgType") == "Update"
    assert alert.findtext(f"{CAP}identifier") == f"{ref}.2"
    assert alert.findtext(f"{CAP}references") == f"{sender},{ref}.1,{sent_first}"

    cancelled = client.post(f"/cuts/{cut}/cancel", headers=headers["dispatcher"],
                            json={"reason": "Thoi tiet xau"})
    assert cancelled.status_code == 200, cancelled.text
    assert ref not in _features(client)  # the map shows what will happen
    [event] = _events(client, customer="PD0001")
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 3
    assert str(event["STATUS"]) == "CANCELLED"
    assert [str(e["STATUS"]) for e in _events(client, district="Hoan Kiem")] == ["CANCELLED"]
    alert = _alerts(client)[ref]
    assert alert.findtext(f"{CAP}msgType") == "Cancel"
    assert alert.findtext(f"{CAP}references").split(" ") == [
        f"{sender},{ref}.1,{sent_first}", alert.findtext(f"{CAP}references").split(" ")[1]]
    assert alert.find(f"{CAP}info/{CAP}urgency").text == "Past"

    entries = _atom(client).entries
    assert [e.title.split(":")[0] for e in entries] == ["Hủy", "Đổi lịch", "Thông báo"]
    assert len({e.id for e in entries}) == 3
    assert [e.title.split(":")[0] for e in _atom(client, "en").entries] == [
        "Cancelled", "Rescheduled", "Announced"]
    updated = [e.updated_parsed for e in entries]
    assert updated == sorted(updated, reverse=True)


def test_a_cancelled_cut_leaves_the_feeds_after_seven_days(client, engine, people) -> None:
    from sqlalchemy import update

    from outages.models import Outage
    cut = add_outage(engine, customers=[people["PD0001"]], status="cancelled",
                     area=square(105.852, 21.028))
    assert len(_events(client, district="Hoan Kiem")) == 1
    assert len(_alerts(client)) == 1
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.__table__.c.id == cut)
                     .values(updated_at=utcnow() - timedelta(days=7, minutes=1)))
    add_outage(engine, customers=[people["PD0003"]], start=utcnow() - timedelta(days=30))
    assert _events(client, district="Hoan Kiem") == []
    assert _alerts(client) == {}


def test_an_unknown_code_and_a_code_without_cuts_get_the_same_calendar(
        client, engine, people, add_customers) -> None:
    add_outage(engine, customers=[people["PD0001"]], area=square(105.852, 21.028))
    add_customers([{"code": "PD0009", "lon": 105.85, "lat": 21.03, "district": "Hoan Kiem"}])
    known = client.get("/public/feeds/cuts.ics", params={"customer": "PD0009"})
    unknown = client.get("/public/feeds/cuts.ics", params={"customer": "XX0000"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert known.headers["etag"] == unknown.headers["etag"]
    assert _events(client, customer="XX0000") == []
    assert len(_events(client, customer="PD0001")) == 1
    refused = client.get("/public/feeds/cuts.ics")
    assert refused.status_code == 422 and refused.json()["field"] == "district"


@pytest.mark.parametrize("path", ["/public/feeds/cuts.geojson", "/public/feeds/cap.xml",
                                  "/public/feeds/atom.xml",
                                  "/public/feeds/cuts.ics?district=Hoan%20Kiem", "/"])
def test_etag_and_last_modified_change_with_any_revision(client, headers, people,
                                                         path) -> None:
    # Within the page's 7 days, so that the page shows the cut too.
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.8525, 21.0285, 0.002), "start": _local(6, 8), "end": _local(6, 12),
        "reason": "Bao duong"})
    assert created.status_code == 201, created.text
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    with time_machine.travel(utcnow() + timedelta(seconds=5)):
        moved = client.post(f"/cuts/{created.json()['id']}/reschedule",
                            headers=headers["dispatcher"],
                            json={"start": _local(6, 9), "end": _local(6, 12)})
        assert moved.status_code == 200, moved.text
        after = client.get(path, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert parsedate_to_datetime(after.headers["last-modified"]) > parsedate_to_datetime(
        modified)


def test_current_outages_in_the_geojson_are_blurred_and_counted(client, engine,
                                                                people) -> None:
    from shapely.geometry import shape
    etr = utcnow() + timedelta(hours=3)
    add_outage(engine, customers=list(people.values()), kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), etr=etr, area=square(105.84, 21.04, 0.03))
    [feature] = _features(client).values()
    props = feature["properties"]
    assert props["kind"] == "fault" and props["customers_affected"] == 5
    drawn, published = shape(square(105.84, 21.04, 0.03)), shape(feature["geometry"])
    assert published.contains(drawn)
    # 150 m at 21 degrees north: 0.00145 degrees of longitude, 0.00136 of latitude.
    west, south, _east, _north = published.bounds
    assert 0.00144 < 105.81 - west < 0.0016 and 0.00135 < 21.01 - south < 0.0015
    assert props["etr"] == etr.astimezone(UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")).isoformat(timespec="seconds")
    assert datetime.fromisoformat(props["updated"]).tzinfo is not None


def test_a_server_asks_the_database_at_most_once_per_recheck_interval(make_client, engine,
                                                                      people) -> None:
    client = make_client(OUTAGES_PUBLIC_RECHECK="1h")
    assert _features(client) == {}
    add_outage(engine, customers=[people["PD0001"]], start=utcnow() + timedelta(days=2),
               area=square(105.852, 21.028))
    assert _features(client) == {}  # still the answer of the last check
    assert len(_features(make_client(OUTAGES_PUBLIC_RECHECK="0s"))) == 1


def test_the_geojson_feed_is_declared_as_the_object_it_is(client) -> None:
    """A client generated from /openapi.json reads the FeatureCollection, not a string."""
    doc = client.get("/openapi.json").json()
    declared = doc["paths"]["/public/feeds/cuts.geojson"]["get"]["responses"]["200"]
    schema = declared["content"]["application/geo+json"]["schema"]
    body = client.get("/public/feeds/cuts.geojson").json()
    assert schema["type"] == "object" and isinstance(body, dict)
    assert body["type"] == schema["properties"]["type"]["const"] == "FeatureCollection"
    assert isinstance(body["features"], list)
