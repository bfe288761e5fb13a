"""An incident's ETR that has gone by while customers are still out is not what anyone
expects any more: the public answers say "not yet known", as the notices and the TINH TRANG
reply do, instead of a time already behind the reader."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from outages.api.public.feed_formats import CAP
from outages.timeutil import utcnow
from tests.api.conftest import add_outage, square


def _passed_fault(engine, people) -> None:
    add_outage(engine, customers=[people["PD0003"]], kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=3), area=square(105.82, 21.035),
               area_name="Doi Can", etr=utcnow() - timedelta(minutes=30))


def test_public_outages_do_not_give_a_passed_etr_as_expected(client, engine, people) -> None:
    _passed_fault(engine, people)
    [outage] = client.get("/public/outages").json()["outages"]
    assert outage["etr"] is None
    [feature] = client.get("/public/feeds/cuts.geojson").json()["features"]
    assert feature["properties"]["etr"] is None


def test_the_public_page_says_not_yet_known_for_a_passed_etr(client, engine, people) -> None:
    _passed_fault(engine, people)
    page = client.get("/", params={"lang": "en"}).text
    row = page[page.index('id="outages"'):]
    row = row[:row.index("</table>")]
    assert "Doi Can" in row and "not yet known" in row


def test_cap_does_not_let_an_alert_expire_while_power_is_still_off(client, engine,
                                                                    people) -> None:
    """A cut running past its planned end: CAP readers drop an alert once `expires` is
    behind them, and the power is still off."""
    add_outage(engine, customers=[people["PD0003"]], status="in_progress",
               start=utcnow() - timedelta(hours=5), hours=4, area=square(105.82, 21.035),
               area_name="Doi Can")
    add_outage(engine, customers=[people["PD0004"]], status="in_progress",
               start=utcnow() - timedelta(hours=1), hours=4, area=square(105.83, 21.035),
               area_name="Kim Ma")
    alerts = ET.fromstring(client.get("/public/feeds/cap.xml").content)
    expires = {info.findtext(f"{{{CAP}}}area/{{{CAP}}}areaDesc", "").split(",")[0]:
               info.findtext(f"{{{CAP}}}expires") for info in alerts.iter(f"{{{CAP}}}info")}
    assert expires["Doi Can"] is None
    running = datetime.fromisoformat(expires["Kim Ma"])
    assert running > utcnow() + timedelta(hours=2)  # the planned end, still ahead
