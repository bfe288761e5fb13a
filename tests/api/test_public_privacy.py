"""The privacy rule over every public answer: routes, feeds and the page, with a registry
of known names, phones, emails and addresses, and with priority customers among them."""

from __future__ import annotations

import itertools
import json
import math
from datetime import timedelta

import pytest
from shapely.geometry import shape
from sqlalchemy import text

from outages.errors import ConfigError
from outages.lifecycle import privacy
from outages.settings import load_settings
from outages.timeutil import utcnow
from tests.api.conftest import PEOPLE, add_outage, square

PUBLIC_GETS = [
    ("/public/cuts", {"district": "Hoan Kiem", "date": "DAY"}),
    ("/public/cuts/lookup", {"customer": "PD0001"}),
    ("/public/cuts/lookup", {"lon": "105.852", "lat": "21.028"}),
    ("/public/outages", {}),
    ("/public/feeds/cuts.geojson", {}),
    ("/public/feeds/cuts.geojson", {"days": "7"}),
    ("/public/feeds/cuts.ics", {"district": "Hoan Kiem"}),
    ("/public/feeds/cuts.ics", {"customer": "PD0001", "lang": "en"}),
    ("/public/feeds/cuts.ics", {"customer": "PD0003"}),
    ("/public/feeds/cap.xml", {}),
    ("/public/feeds/atom.xml", {}),
    ("/public/feeds/atom.xml", {"lang": "en"}),
    ("/", {}),
    ("/", {"lang": "en"}),
    ("/", {"customer": "PD0001", "district": "Hoan Kiem", "date": "DAY"}),
    ("/", {"customer": "PD0003", "lang": "en"}),
]


@pytest.fixture
def world(client, headers, engine, people) -> str:
    """A cut over everyone's homes (through the API: revisions, history), a fault with a
    drawn area, and priority customers; returns the cut's local day."""
    start = utcnow() + timedelta(days=6)
    day = start.date().isoformat()
    created = client.post("/cuts", headers=headers["dispatcher"], json={
        "area": square(105.835, 21.05, 0.04), "start": f"{day} 08:00", "end": f"{day} 12:00",
        "reason": "Bao duong"})
    assert created.status_code == 201, created.text
    with engine.begin() as conn:  # priority customers inside both outages
        conn.execute(text("UPDATE customers SET priority = 'medical' WHERE code IN "
                          "('PD0001', 'PD0003')"))
    add_outage(engine, customers=[people["PD0003"], people["PD0004"]], kind="fault",
               status="confirmed", start=utcnow() - timedelta(hours=1),
               etr=utcnow() + timedelta(hours=2), area=square(105.8205, 21.0355, 0.001))
    return day


def _secrets() -> list[str]:
    found = ["@example.vn", "medical", "105.852,", "105.853", "21.029,"]
    for code, name, phone, *_rest in PEOPLE:
        found += [name, json.dumps(name)[1:-1], phone, phone[1:], "0" + phone[3:],
                  f"{code} Pho Hue", f"{code.lower()}@"]
    return found


def test_no_public_answer_reveals_a_customer(client, world) -> None:
    bodies = []
    for path, params in PUBLIC_GETS:
        answer = client.get(path, params={k: v.replace("DAY", world) for k, v in params.items()})
        assert answer.status_code == 200, (path, params, answer.text)
        bodies.append((path, answer.text))
    near = client.post("/public/cuts/near", json={"lon": 105.852, "lat": 21.028})
    assert near.status_code == 200 and near.json()["cuts"]
    assert near.headers["cache-control"] == "no-store"
    bodies.append(("near", near.text))
    still_out = client.post("/still-out", data={"customer": "PD0001", "lang": "en"})
    assert still_out.status_code == 200
    bodies.append(("still-out", still_out.text))
    bodies.append(("unsubscribe", client.get("/unsubscribe/not-a-token").text))
    for path, body in bodies:
        for secret in _secrets():
            assert secret not in body, (path, secret)
        assert "customer_id" not in body and '"priority"' not in body, path


def test_counts_under_the_minimum_read_fewer_everywhere(client, world) -> None:
    [fault] = [o for o in client.get("/public/outages").json()["outages"]
               if o["kind"] == "fault"]
    assert fault["customers_affected"] == "<5"
    assert fault["district_counts"] == {"Ba Dinh": "<5"}
    features = client.get("/public/feeds/cuts.geojson").json()["features"]
    counts = sorted(str(f["properties"]["customers_affected"]) for f in features)
    assert counts == ["5", "<5"]  # the cut holds all five customers
    assert "fewer than 5" in client.get("/", params={"lang": "en"}).text
    assert "dưới 5" in client.get("/").text
    assert "Customers affected: fewer than 5" in client.get(
        "/public/feeds/cap.xml").text


def test_a_current_outage_is_blurred_in_every_answer(client, world) -> None:
    drawn = shape(square(105.8205, 21.0355, 0.001))
    [fault] = [o for o in client.get("/public/outages").json()["outages"]
               if o["kind"] == "fault"]
    [feature] = [f for f in client.get("/public/feeds/cuts.geojson").json()["features"]
                 if f["properties"]["kind"] == "fault"]
    for area in (fault["area"], feature["geometry"]):
        published = shape(area)
        assert published.contains(drawn)
        # Every point of the published edge is at least 150 m from the drawn area.
        edge = published.exterior
        metres = [_metres(drawn, point) for point in edge.coords]
        assert min(metres) >= 150, min(metres)
        assert max(metres) < 200
    cap = client.get("/public/feeds/cap.xml").text
    assert "21.0355" not in cap  # the drawn corners are nowhere


def _metres(area, point) -> float:
    """Distance from `point` (lon, lat) to `area`, in metres at its latitude."""
    lon, lat = point
    nearest = area.exterior.interpolate(area.exterior.project(
        shape({"type": "Point", "coordinates": [lon, lat]})))
    dx = (lon - nearest.x) * 111_320 * math.cos(math.radians(lat))
    dy = (lat - nearest.y) * 110_574
    return math.hypot(dx, dy)


def test_a_wider_blur_is_honoured(make_client, world) -> None:
    wide = make_client(OUTAGES_PUBLIC_BLUR_M="500")
    [fault] = [o for o in wide.get("/public/outages").json()["outages"]
               if o["kind"] == "fault"]
    west = shape(fault["area"]).bounds[0]
    assert 500 <= (105.8195 - west) * 111_320 * math.cos(math.radians(21.0355)) < 560


def test_the_rule_refuses_a_personal_field_at_any_depth() -> None:
    assert privacy.checked({"cuts": [{"ref": "x", "districts": ["A"]}]})
    for leak in ({"phone": "+84"}, {"cuts": [{"name": "An"}]}, [{"a": {"lat": 21.0}}]):
        with pytest.raises(privacy.PersonalDataRefused):
            privacy.checked(leak)


def test_counts_follow_the_configured_minimum() -> None:
    settings = load_settings(environ={"OUTAGES_PUBLIC_MIN_COUNT": "10"})
    assert [privacy.shown_count(n, settings) for n in (0, 9, 10, 11)] == ["<10", "<10", 10, 11]
    with pytest.raises(ConfigError, match="blur_m"):
        load_settings(environ={"OUTAGES_PUBLIC_BLUR_M": "10"})


def test_a_total_does_not_give_a_small_district_count_away(client, engine,
                                                          add_customers) -> None:
    rows = [{"code": f"A{i:04d}", "district": "Ba Dinh", "lon": 105.820 + i * 0.0001,
             "lat": 21.035} for i in range(6)]
    rows.append({"code": "B0001", "district": "Tay Ho", "lon": 105.821, "lat": 21.036})
    add_customers(rows)
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM customers WHERE code IN "
                                     "('A0000','A0001','A0002','A0003','A0004','A0005',"
                                     "'B0001')")).scalars())
    add_outage(engine, customers=ids, kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), area=square(105.82, 21.035))
    [outage] = [o for o in client.get("/public/outages").json()["outages"]
                if o["district_counts"].get("Tay Ho")]
    # 7 beside "Ba Dinh: 6" would say Tay Ho has 1.
    assert outage["district_counts"] == {"Ba Dinh": 6, "Tay Ho": "<5"}
    assert outage["customers_affected"] == ">6"
    [feature] = [f for f in client.get("/public/feeds/cuts.geojson").json()["features"]
                 if f["id"] == outage["ref"]]
    assert feature["properties"]["customers_affected"] == ">6"
    assert "more than 6" in client.get("/", params={"lang": "en"}).text
    assert "hơn 6" in client.get("/").text
    assert "Customers affected: more than 6" in client.get("/public/feeds/cap.xml").text


def test_totals_hide_only_what_subtraction_would_reveal() -> None:
    settings = load_settings(environ={})
    total = privacy.total_count
    assert total({"A": 6, "B": 1}, settings) == ">6"
    assert total({"A": 6, "B": 2, "C": 2}, settings) == ">7"  # B and C have one at least
    assert total({"A": 6, "B": 3, "C": 3}, settings) == 12  # 6 hidden: no single count
    assert total({"A": 6, "B": 7}, settings) == 13
    assert total({"A": 2, "B": 2}, settings) == "<5"
    assert total({"A": 3, "B": 3}, settings) == 6  # both hidden: 6 says neither
    # A total that pins every hidden district: one house each, or the most each can have.
    assert total({"A": 6, "B": 1, "C": 1, "D": 1, "E": 1, "F": 1}, settings) == ">10"
    assert total({"A": 6, "B": 4, "C": 4}, settings) == ">7"
    assert total({"A": 4, "B": 4}, settings) == ">1"
    assert total({"A": 6, "B": 3, "C": 4}, settings) == 13  # 3 + 4, 4 + 3: neither is known


def test_no_total_lets_a_reader_work_out_a_district_shown_as_fewer_than_5() -> None:
    """Every outage of up to 4 districts with 1..8 houses each: what a reader knows (each
    district listed has at least one house, one shown "<5" at most four, and the total)
    never pins a hidden district's count."""
    settings = load_settings(environ={})
    least = settings.public.min_count
    for size in range(1, 5):
        for values in itertools.product(range(1, 9), repeat=size):
            counts = dict(zip("ABCD", values, strict=False))
            total = privacy.total_count(counts, settings)
            hidden = [d for d, n in counts.items() if n < least]
            exact = sum(n for n in counts.values() if n >= least)
            possible = [c for c in itertools.product(range(1, least), repeat=len(hidden))
                        if not isinstance(total, int) or exact + sum(c) == total]
            assert all(len({p[i] for p in possible}) > 1 for i in range(len(hidden))), \
                (counts, total)
            if isinstance(total, str) and total.startswith(">"):
                assert int(total[1:]) < sum(values), (counts, total)  # still true
