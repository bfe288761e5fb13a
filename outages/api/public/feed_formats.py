"""The open feeds' formats, rendered from `public_feed` items (already under the privacy
rule): GeoJSON, iCalendar (RFC 5545), CAP 1.2 alerts inside Atom, and Atom."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from jinja2 import Environment

from outages.lifecycle import privacy
from outages.lifecycle.public_feed import FeedEntry, FeedItem
from outages.timeutil import iso_local

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
CAP_LANGUAGES = {"vi": "vi-VN", "en": "en-US"}


def _words(env: Environment, lang: str) -> Any:
    return env.get_template(f"{lang}/feed.txt").module


def geojson(items: Sequence[FeedItem], tz: ZoneInfo) -> bytes:
    features = [{
        "type": "Feature",
        "id": item.ref,
        "geometry": item.area,
        "properties": {
            "id": item.ref, "kind": item.kind, "status": item.status,
            "area_name": item.area_name,
            "start": iso_local(item.start, tz), "end": iso_local(item.end, tz),
            "etr": iso_local(item.etr, tz),
            "reason": item.reason if item.kind == "planned" else item.cause,
            "districts": item.districts, "customers_affected": item.customers_affected,
            "revision": item.revision, "updated": iso_local(item.updated, tz),
        },
    } for item in items]
    return json.dumps(privacy.checked({"type": "FeatureCollection", "features": features}),
                      ensure_ascii=False, separators=(",", ":")).encode()


def calendar(items: Sequence[FeedItem], env: Environment, *, lang: str, tz: ZoneInfo,
             host: str, page: str) -> bytes:
    """One VEVENT per planned cut, times in UTC; the UID stays with the cut, SEQUENCE is
    its revision, and a cancelled cut reads STATUS:CANCELLED."""
    from icalendar import Calendar, Event

    words = _words(env, lang)
    cal = Calendar()
    cal.add("prodid", "-//outage-notify//public cuts//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", str(words.calendar_name))
    for item in items:
        if item.kind != "planned" or item.start is None or item.end is None:
            continue
        event = Event()
        event.add("uid", f"{item.ref}@{host}")
        event.add("dtstamp", item.updated.astimezone(UTC))
        event.add("last-modified", item.updated.astimezone(UTC))
        event.add("dtstart", item.start.astimezone(UTC))
        # An extended cut ends when it is now expected to (its ETR), not as first planned.
        event.add("dtend", (item.etr or item.end).astimezone(UTC))
        event.add("sequence", item.revision)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("summary", str(words.title(item)))
        event.add("description", str(words.description(item, tz)).strip())
        event.add("location", ", ".join(filter(None, [item.area_name, *item.districts])))
        if page:
            event.add("url", page)
        cal.add_component(event)
    return bytes(cal.to_ical())


def cap_feed(items: Sequence[FeedItem], env: Environment, *, tz: ZoneInfo, sender: str,
             pages: Mapping[str, str], now: datetime) -> bytes:
    """An Atom feed whose entries each hold one CAP 1.2 alert (CAP over Atom, as alert hubs
    read it): the newest message of each current outage, upcoming cut or cancelled cut."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, f"{{{ATOM}}}id", f"urn:outage-notify:{sender}:cap")
    _text(feed, f"{{{ATOM}}}title", "CAP alerts: power cuts and outages")
    _text(feed, f"{{{ATOM}}}updated", _cap_time(now))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")  # RFC 4287 4.1.1: a feed has one
    _text(author, f"{{{ATOM}}}name", str(_words(env, "vi").feed_title))
    for item in items:
        alert = cap_alert(item, env, tz=tz, sender=sender, pages=pages)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        identifier = _identifier(item.ref, item.revision)
        _text(entry, f"{{{ATOM}}}id", f"urn:outage-notify:{sender}:{identifier}")
        headline = alert.findtext(f"{{{CAP}}}info/{{{CAP}}}headline") or ""
        _text(entry, f"{{{ATOM}}}title", headline)
        _text(entry, f"{{{ATOM}}}updated", _cap_time(item.revised or item.updated))
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="application/cap+xml")
        content.append(alert)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def cap_alert(item: FeedItem, env: Environment, *, tz: ZoneInfo, sender: str,
              pages: Mapping[str, str]) -> ET.Element:
    alert = ET.Element(f"{{{CAP}}}alert")

    def add(parent: ET.Element, name: str, value: str) -> ET.Element:
        return _text(parent, f"{{{CAP}}}{name}", value)

    add(alert, "identifier", _identifier(item.ref, item.revision))
    add(alert, "sender", sender)
    add(alert, "sent", _cap_time(item.revised or item.updated))
    add(alert, "status", "Actual")
    add(alert, "msgType", "Cancel" if item.cancelled else
        ("Alert" if item.revision == 1 else "Update"))
    add(alert, "scope", "Public")
    if item.history:
        add(alert, "references", " ".join(
            f"{sender},{_identifier(item.ref, n)},{_cap_time(at)}" for n, at in item.history))
    for lang, code in CAP_LANGUAGES.items():
        _cap_info(alert, item, _words(env, lang), code, tz=tz, page=pages.get(lang, ""))
    return alert


def _cap_info(alert: ET.Element, item: FeedItem, words: Any, language: str, *,
              tz: ZoneInfo, page: str) -> None:
    info = ET.SubElement(alert, f"{{{CAP}}}info")

    def add(parent: ET.Element, name: str, value: str) -> ET.Element:
        return _text(parent, f"{{{CAP}}}{name}", value)

    add(info, "language", language)
    add(info, "category", "Infra")
    add(info, "event", str(words.kinds[item.kind]))
    add(info, "urgency", "Past" if item.cancelled else
        ("Immediate" if item.current else "Future"))
    add(info, "severity", "Moderate" if item.current else "Minor")
    add(info, "certainty", "Observed" if item.current else "Likely")
    add(info, "effective", _cap_time(item.revised or item.updated))
    if item.start is not None:
        add(info, "onset", _cap_time(item.start))
    # With power off, only a time still ahead (the feed leaves out one gone by): readers drop
    # an alert once `expires` is behind them, and the power is still off.
    expires = item.etr if item.current else item.etr or item.end
    if expires is not None:
        add(info, "expires", _cap_time(expires))
    add(info, "senderName", str(words.feed_title))
    add(info, "headline", str(words.title(item))[:160])
    add(info, "description", str(words.description(item, tz)).strip())
    if page:
        add(info, "web", page)
    area = ET.SubElement(info, f"{{{CAP}}}area")
    add(area, "areaDesc", ", ".join(filter(None, [item.area_name, *item.districts])) or "-")
    for ring in _outer_rings(item.area):
        add(area, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring))


def _outer_rings(area: dict[str, Any] | None) -> list[list[list[float]]]:
    """Each polygon's outer ring, closed (CAP wants the first point repeated)."""
    if not area:
        return []
    polygons = ([area["coordinates"]] if area["type"] == "Polygon" else
                area["coordinates"] if area["type"] == "MultiPolygon" else [])
    rings = []
    for polygon in polygons:
        ring = [list(point[:2]) for point in polygon[0]]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        if len(ring) >= 4:
            rings.append(ring)
    return rings


def atom(entries: Sequence[FeedEntry], env: Environment, *, lang: str, tz: ZoneInfo,
         feed_id: str, page: str, self_url: str, now: datetime) -> bytes:
    """Announcements, changes, cancellations and restorations, newest first."""
    from feedgen.feed import FeedGenerator

    words = _words(env, lang)
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(str(words.feed_title))
    fg.author({"name": str(words.feed_title)})  # RFC 4287 4.1.1: a feed has an author
    fg.language(lang)
    fg.link(href=self_url, rel="self")
    if page:
        fg.link(href=page, rel="alternate")
    fg.updated(entries[0].at if entries else now)
    for entry in entries:
        item = fg.add_entry(order="append")
        item.id(f"urn:outage-notify:{entry.ref}:{entry.revision}")
        item.title(str(words.title(entry, entry.action)))
        item.updated(entry.at)
        item.published(entry.at)
        item.content(str(words.description(entry, tz)).strip() or str(words.title(entry)),
                     type="text")
        if page:
            item.link(href=page, rel="alternate")
    return bytes(fg.atom_str(pretty=False))


def _identifier(ref: str, revision: int) -> str:
    return f"{ref}.{revision}"


def _cap_time(value: datetime) -> str:
    """CAP dateTime: seconds, with an explicit offset ("+00:00", never "Z")."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = value
    return child
