"""The console keeps the privacy rule for roles without personal data (callers' homes rounded,
addresses masked in provider errors, an automatic area around a few callers not published),
and shows names typed by people as text on the map."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from twilio.base.exceptions import TwilioRestException

from notifier.channels.sms import classify
from notifier.store import outbox
from outages import db
from outages.models import Customer
from tests.console.conftest import HOAN_KIEM, Console, sign_in

pytestmark = pytest.mark.real_clock


def _report(console: Console, code: str) -> int:
    with console.api("dispatcher") as api:
        answer = api.post("/faults/reports", json={"customer": code, "text": "mất điện"})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["outage_id"])


def test_viewer_gets_report_coordinates_rounded_in_console(console: Console,
                                                           signed_client: Any) -> None:
    """README: viewers and engineers get coordinates rounded to 2 decimals (about 1 km).
    The API does so for GET /faults/{id}; the console's incident JSON and report layer
    give a viewer the caller's home to the metre."""
    fault = _report(console, "CS0001")  # lives at 105.852, 21.028
    with console.api("viewer") as api:
        shown = api.get(f"/faults/{fault}").json()["reports"][0]
    assert (shown["lon"], shown["lat"]) == (105.85, 21.03)  # the API rounds for a viewer

    viewer, _csrf = signed_client("viewer")
    incidents = viewer.get("/console/map/incidents.json").json()["incidents"]
    report = next(i for i in incidents if i["id"] == fault)["reports"][0]
    layer = viewer.get("/console/map/reports.geojson").json()["features"]
    point = next(f for f in layer if f["properties"]["incident"] == fault)
    assert {"incidents.json": [report["lon"], report["lat"]],
            "reports.geojson": point["geometry"]["coordinates"]} == \
        {"incidents.json": [105.85, 21.03], "reports.geojson": [105.85, 21.03]}


def test_viewer_does_not_read_phone_numbers_in_provider_errors(console: Console,
                                                               signed_client: Any) -> None:
    """Failed notices are listed by provider error; the contacts are only for roles that may
    see personal data. Twilio's error text names the number it refused (the project's own
    Twilio stand-in says so), and the console shows that text to a viewer."""
    cut = console.create_cut()
    phone = "+84912345003"
    error = classify(TwilioRestException(
        400, "https://api.twilio.com/2010-04-01/Accounts/AC/Messages.json",
        msg=f"The 'To' number {phone} is not a valid phone number.", code=21211))
    engine = db.make_engine(console.db_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        customer = conn.execute(select(Customer.__table__.c.id)
                                .where(Customer.__table__.c.phone == phone)).scalar_one()
        conn.execute(insert(outbox).values(
            key=f"review:{cut}:sms", outage_id=cut, revision=1, customer_id=customer,
            kind="announcement", channel="sms", recipient=phone, language="vi",
            due_at=now, status="failed", attempts=1, last_error_code=error.code,
            last_error=str(error), body="...", created_at=now, updated_at=now))
    engine.dispose()

    viewer, _csrf = signed_client("viewer")
    notices = viewer.get("/console/notices")
    cut_page = viewer.get(f"/console/cuts/{cut}")
    assert notices.status_code == cut_page.status_code == 200
    assert "21211" in notices.text  # the failure group is shown
    assert {"/console/notices": phone in notices.text,
            f"/console/cuts/{cut}": phone in cut_page.text} == \
        {"/console/notices": False, f"/console/cuts/{cut}": False}


def test_area_name_is_text_in_map_tooltips(console: Console, page: Any) -> None:
    """A cut's area name (a dispatcher's words, or a GeoJSON file's `name` property) is put
    in the ops map's tooltip by Leaflet's bindTooltip(string), which sets innerHTML."""
    area = {"type": "Feature", "properties": {"name": 'Hang Bac <img id="injected" src="x">'
                                              '<a id="phish" href="https://evil.example/">'
                                              'sign in again</a>'},
            "geometry": HOAN_KIEM}
    cut = console.create_cut(area=area)
    sign_in(page, console, "viewer")
    page.goto(f"{console.url}/incidents")
    page.locator("#ops-map[data-loaded=true]").wait_for()
    opened = page.evaluate("""(cut) => {
        let found = 0;
        window.outagesMap.map.eachLayer((layer) => {
            const p = layer.feature && layer.feature.properties;
            if (p && p.id === cut && layer.getTooltip()) { layer.openTooltip(); found += 1; }
        });
        return found;
    }""", cut)
    assert opened == 1
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert page.locator(".leaflet-tooltip #injected, .leaflet-tooltip #phish").count() == 0, \
        tooltip.inner_html()


def test_console_confirm_of_the_proposal_around_one_caller_is_not_published(
        console: Console, signed_client: Any) -> None:
    """README: an automatic fault area drawn around fewer than public.min_count (5) reporting
    customers (a circle around one home) is published by district only (area: null). The
    Incidents page loads that proposal into the drawing and "Confirm by area" posts it as a
    drawn area, so the circle around the one caller's home is published."""
    from outages.models import Outage

    fault = _report(console, "CS0003")  # one caller, at 105.851, 21.027
    dispatcher, csrf = signed_client("dispatcher")
    listed = dispatcher.get("/console/map/incidents.json").json()["incidents"]
    proposal = next(i for i in listed if i["id"] == fault)["area"]
    assert len(next(i for i in listed if i["id"] == fault)["reports"]) < 5
    # What map-incidents.js sends: drawn.toGeoJSON() of the proposal loaded unedited.
    drawn = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": proposal}]}
    answer = dispatcher.post(f"/console/incidents/{fault}/confirm",
                             json={"area": drawn, "cause": None, "reason": None},
                             headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        ref = conn.execute(select(Outage.__table__.c.public_ref)
                           .where(Outage.__table__.c.id == fault)).scalar_one()
    engine.dispose()
    public = [o for o in httpx.get(f"{console.base}/public/outages").json()["outages"]
              if o["ref"] == ref]
    assert len(public) == 1
    assert public[0]["area"] is None, "the circle around one caller's home is public"
