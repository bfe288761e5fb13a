from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from outages.timeutil import utcnow
from tests.api.conftest import BASE, PEOPLE, add_outage, square


def ids(engine, found) -> list[int]:
    """The outages a public answer names by their public reference, as internal ids."""
    with engine.connect() as conn:
        by_ref = dict(conn.execute(text("SELECT public_ref, id FROM outages")).all())
    return [by_ref[c["ref"]] for c in found]


@pytest.fixture
def cuts(engine, people) -> dict[str, int]:
    """Cuts around the seeded customers, as the lifecycle would store them."""
    start = datetime(2030, 3, 4, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
    return {
        "hoan_kiem": add_outage(engine, customers=[people["PD0001"], people["PD0002"]],
                                start=start, area=square(105.852, 21.028),
                                area_name="Pho Hue", reason="Thay cap ngam"),
        "ba_dinh": add_outage(engine, customers=[people["PD0003"], people["PD0004"]],
                              start=start + timedelta(days=1), area=square(105.82, 21.035),
                              area_name="Doi Can"),
        "cancelled": add_outage(engine, customers=[people["PD0001"]], status="cancelled",
                                start=start, area=square(105.852, 21.028)),
        "resized": add_outage(engine, customers=[people["PD0004"], people["PD0005"]],
                              dropped=[people["PD0004"]], start=start,
                              area=square(105.818, 21.070, 0.005), area_name="Tay Ho"),
    }


def test_cuts_by_district_and_local_day(client, cuts, engine) -> None:
    response = client.get("/public/cuts", params={"district": "hoan kiem", "date": "2030-03-04"})
    assert response.status_code == 200
    found = response.json()["cuts"]
    assert ids(engine, found) == [cuts["hoan_kiem"]]
    cut = found[0]
    assert cut["start"] == "2030-03-04T08:00:00+07:00" and cut["end"] == "2030-03-04T12:00:00+07:00"
    # Two customers: under public.min_count, so the count is not given (privacy rule).
    assert cut["districts"] == ["Hoan Kiem"] and cut["customers_affected"] == "<5"
    assert cut["reason"] == "Thay cap ngam" and cut["status"] == "scheduled"
    next_day = client.get("/public/cuts", params={"district": "Ba Dinh", "date": "2030-03-05"})
    # PD0004 was dropped from the Tay Ho cut, so Ba Dinh only sees the Doi Can cut.
    assert ids(engine, next_day.json()["cuts"]) == [cuts["ba_dinh"]]
    assert client.get("/public/cuts", params={"district": "Ba Dinh", "date": "2030-03-04"}
                      ).json()["cuts"] == []


def test_local_day_follows_the_configured_zone_across_dst(make_client, engine, people) -> None:
    berlin = make_client(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    # 2030-03-31 is the spring-forward day in Berlin: 23 hours long, from 22:00 UTC the day
    # before to 22:00 UTC. A cut from 22:30 UTC belongs to the next local day.
    late = add_outage(engine, customers=[people["PD0001"]],
                      start=datetime(2030, 3, 31, 21, 0, tzinfo=UTC), hours=1)
    on_day = berlin.get("/public/cuts", params={"district": "Hoan Kiem", "date": "2030-03-31"})
    assert ids(engine, on_day.json()["cuts"]) == [late]
    assert on_day.json()["cuts"][0]["start"] == "2030-03-31T23:00:00+02:00"
    before = berlin.get("/public/cuts", params={"district": "Hoan Kiem", "date": "2030-03-30"})
    assert before.json()["cuts"] == []


def test_lookup_by_customer_code(client, cuts, engine, people) -> None:
    found = client.get("/public/cuts/lookup", params={"customer": "PD0002"}).json()["cuts"]
    assert ids(engine, found) == [cuts["hoan_kiem"]]
    # PD0004 was dropped from the Tay Ho cut by a resize.
    dropped = client.get("/public/cuts/lookup", params={"customer": "PD0004"}).json()["cuts"]
    assert ids(engine, dropped) == [cuts["ba_dinh"]]
    add_outage(engine, customers=[people["PD0002"]], start=utcnow() - timedelta(days=3))
    later = client.get("/public/cuts/lookup", params={"customer": "PD0002"}).json()["cuts"]
    assert ids(engine, later) == [cuts["hoan_kiem"]]  # the past cut is not listed


def test_an_unknown_customer_code_answers_like_a_code_without_cuts(client, cuts,
                                                                   add_customers) -> None:
    """Codes are sequential: a different answer for an unknown one would let anyone list
    the valid codes."""
    add_customers([{"code": "PD0006", "lon": 105.85, "lat": 21.03, "district": "Hoan Kiem"}])
    known = client.get("/public/cuts/lookup", params={"customer": "PD0006"})
    unknown = client.get("/public/cuts/lookup", params={"customer": "XX9999"})
    assert known.json() == {"cuts": []}  # a customer with no cut
    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert unknown.headers["cache-control"] == known.headers["cache-control"]
    page_known = client.get("/", params={"customer": "PD0006"})
    page_unknown = client.get("/", params={"customer": "XX9999"})
    assert page_unknown.status_code == page_known.status_code == 200
    assert page_unknown.text == page_known.text.replace("PD0006", "XX9999")


def test_public_answers_name_outages_by_reference_not_id(client, cuts, engine, people) -> None:
    add_outage(engine, customers=[people["PD0003"]], kind="fault", status="confirmed",
               start=utcnow(), area=square(105.82, 21.035))
    answers = [client.get("/public/cuts", params={"district": "Hoan Kiem",
                                                  "date": "2030-03-04"}).json()["cuts"],
               client.get("/public/cuts/lookup", params={"customer": "PD0002"}).json()["cuts"],
               client.get("/public/outages").json()["outages"]]
    with engine.connect() as conn:
        refs = dict(conn.execute(text("SELECT id, public_ref FROM outages")).all())
    assert all(answer for answer in answers)
    for item in (item for answer in answers for item in answer):
        assert "id" not in item
        assert item["ref"] in refs.values() and not item["ref"].isdigit()
    assert len(set(refs.values())) == len(refs)


def test_lookup_lists_every_cut_of_a_customer_soonest_first(client, cuts, engine,
                                                           people) -> None:
    earlier = add_outage(engine, customers=[people["PD0005"], people["PD0001"]],
                         start=datetime(2030, 3, 2, 1, 0, tzinfo=UTC), area_name="Quang An",
                         reason="Thay may bien ap")
    found = client.get("/public/cuts/lookup", params={"customer": "PD0005"}).json()["cuts"]
    assert ids(engine, found) == [earlier, cuts["resized"]]
    assert [(c["area_name"], c["reason"], c["start"], c["customers_affected"], c["districts"])
            for c in found] == [
        ("Quang An", "Thay may bien ap", "2030-03-02T08:00:00+07:00", "<5",
         ["Hoan Kiem", "Tay Ho"]),
        # PD0004 was dropped from the Tay Ho cut: one customer is left.
        ("Tay Ho", "Bao duong tram bien ap", "2030-03-04T08:00:00+07:00", "<5", ["Tay Ho"]),
    ]


def test_lookup_by_point_covers_the_edge(client, cuts, engine) -> None:
    inside = client.get("/public/cuts/lookup", params={"lon": 105.852, "lat": 21.028})
    assert ids(engine, inside.json()["cuts"]) == [cuts["hoan_kiem"]]
    edge = client.get("/public/cuts/lookup", params={"lon": 105.862, "lat": 21.028})
    assert ids(engine, edge.json()["cuts"]) == [cuts["hoan_kiem"]]
    outside = client.get("/public/cuts/lookup", params={"lon": 105.9, "lat": 21.2})
    assert outside.json()["cuts"] == []
    swapped = client.get("/public/cuts/lookup", params={"lon": 21.028, "lat": 105.852})
    assert swapped.status_code == 422
    neither = client.get("/public/cuts/lookup")
    assert neither.status_code == 422 and "customer=CODE" in neither.json()["detail"]
    both = client.get("/public/cuts/lookup", params={"customer": "PD0001", "lon": 105.9,
                                                     "lat": 21.2})
    assert both.status_code == 422 and "not both" in both.json()["detail"]


def test_current_outages_with_area_and_etr(client, engine, people) -> None:
    etr = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
    fault = add_outage(engine, customers=[people["PD0003"], people["PD0004"]], kind="fault",
                       status="confirmed", start=utcnow(), etr=etr,
                       area=square(105.82, 21.035))
    running = add_outage(engine, customers=[people["PD0001"]], status="in_progress",
                         start=utcnow() - timedelta(hours=1), area=square(105.852, 21.028))
    add_outage(engine, customers=[people["PD0002"]], status="scheduled")
    answer = client.get("/public/outages").json()["outages"]
    outages = dict(zip(ids(engine, answer), answer, strict=True))
    assert set(outages) == {fault, running}
    assert outages[fault]["etr"] == "2030-01-01T17:00:00+07:00"
    assert outages[fault]["customers_affected"] == "<5"
    assert outages[fault]["district_counts"] == {"Ba Dinh": "<5"}
    assert outages[fault]["area"]["type"] == "Polygon"
    assert outages[running]["kind"] == "planned"


def test_public_answers_never_contain_personal_data(client, cuts, engine, people) -> None:
    add_outage(engine, customers=list(people.values()), kind="fault", status="reported",
               start=utcnow())
    bodies = [client.get(url, params=params).text for url, params in [
        ("/public/cuts", {"district": "Hoan Kiem", "date": "2030-03-04"}),
        ("/public/cuts", {"district": "Ba Dinh", "date": "2030-03-05"}),
        ("/public/cuts/lookup", {"customer": "PD0001"}),
        ("/public/cuts/lookup", {"lon": "105.852", "lat": "21.028"}),
        ("/public/outages", {}),
        ("/", {"district": "Hoan Kiem", "date": "2030-03-04", "customer": "PD0001"}),
        ("/", {"lang": "en", "district": "Ba Dinh", "date": "2030-03-05"}),
    ]]
    assert all(bodies)
    for code, name, phone, *_rest in PEOPLE:
        secrets = (name, json.dumps(name)[1:-1], phone, phone[1:], "0" + phone[3:],
                   "@example.vn", f"{code} Pho Hue")
        for body in bodies:
            for secret in secrets:
                assert secret not in body


def test_public_endpoints_are_rate_limited_per_client(make_client) -> None:
    limited = make_client(OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE="3")
    codes = [limited.get("/public/outages").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = limited.get("/public/outages")
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert limited.get("/").status_code == 429
    # Health checks and the authenticated API are not counted.
    assert limited.get("/healthz").status_code == 200


def test_the_rate_limit_counts_one_ipv6_network_as_one_client(make_client) -> None:
    """An IPv6 host holds a whole /64 (a phone on a mobile network, any rented server): one
    new address per request must not buy a fresh allowance each time."""
    app = make_client(OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE="3").app
    codes = [TestClient(app, base_url=BASE, client=(f"2001:db8:1:2::{n:x}", 50000))
             .get("/public/outages").status_code for n in range(1, 5)]
    assert codes == [200, 200, 200, 429]
    # Another network, or an IPv4 client, has its own allowance.
    assert TestClient(app, base_url=BASE, client=("2001:db8:1:3::1", 50000)) \
        .get("/public/outages").status_code == 200
    assert TestClient(app, base_url=BASE, client=("203.0.113.7", 50000)) \
        .get("/public/outages").status_code == 200


def test_malformed_public_queries_are_422(client) -> None:
    bad_date = client.get("/public/cuts", params={"district": "X", "date": "04/03/2030"})
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "date"
    assert "YYYY-MM-DD" in bad_date.json()["detail"]
    missing = client.get("/public/cuts", params={"date": "2030-03-04"})
    assert missing.status_code == 422 and missing.json()["field"] == "query.district"
    bad_lon = client.get("/public/cuts/lookup", params={"lon": "east", "lat": "21"})
    assert bad_lon.status_code == 422 and bad_lon.json()["field"] == "query.lon"


def test_answers_follow_a_new_revision_of_the_cut(make_client, cuts, engine, people) -> None:
    from sqlalchemy import update

    from outages.models import Outage, OutageCustomer

    client = make_client(OUTAGES_PUBLIC_MIN_COUNT="1")  # counts of one and two, shown

    params = {"customer": "PD0001"}
    before = client.get("/public/cuts/lookup", params=params).json()["cuts"]
    assert before[0]["customers_affected"] == 2
    assert client.get("/public/cuts/lookup", params={"lon": 105.852, "lat": 21.028}).json()
    # A resize: PD0002 dropped, the area moved away from the old point; revision 2.
    oc = OutageCustomer.__table__.c
    with engine.begin() as conn:
        conn.execute(update(OutageCustomer.__table__).where(
            oc.outage_id == cuts["hoan_kiem"], oc.customer_id == people["PD0002"])
            .values(dropped_revision=2))
        conn.execute(update(Outage.__table__).where(Outage.__table__.c.id == cuts["hoan_kiem"])
                     .values(revision=2, area_geojson=json.dumps(square(105.87, 21.028))))
    after = client.get("/public/cuts/lookup", params=params).json()["cuts"]
    assert after[0]["customers_affected"] == 1
    moved = client.get("/public/cuts/lookup", params={"lon": 105.852, "lat": 21.028}).json()
    assert moved["cuts"] == []


def test_district_is_found_whatever_its_case_and_diacritics(client, engine,
                                                           add_customers) -> None:
    """SQLite's lower() leaves 'Đ' alone: typing a district must still find its cuts."""
    add_customers([{"code": f"DD{i}", "district": "Đống Đa", "lon": 105.83 + i / 1000,
                    "lat": 21.02} for i in range(3)])
    with engine.connect() as conn:
        members = list(conn.execute(text("SELECT id FROM customers WHERE code LIKE 'DD%'"))
                       .scalars())
    start = datetime(2030, 3, 4, 1, 0, tzinfo=UTC)
    cut = add_outage(engine, customers=members, start=start, area=square(105.831, 21.02))
    for typed in ("Đống Đa", "đống đa", "Dong Da", "  dong   DA "):
        found = client.get("/public/cuts", params={"district": typed, "date": "2030-03-04"})
        assert found.status_code == 200
        assert ids(engine, found.json()["cuts"]) == [cut], typed
    other = client.get("/public/cuts", params={"district": "Dong", "date": "2030-03-04"})
    assert other.json()["cuts"] == []


def test_public_answers_may_be_cached_by_proxies_but_errors_not(client, make_client,
                                                                cuts) -> None:
    for path, params in [("/public/cuts", {"district": "Hoan Kiem", "date": "2030-03-04"}),
                         ("/public/cuts/lookup", {"customer": "PD0002"}),
                         ("/public/cuts/lookup", {"lon": 105.852, "lat": 21.028}),
                         ("/public/outages", {}), ("/", {"customer": "PD0002"})]:
        answer = client.get(path, params=params)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=60", path
    for path, params in [("/public/cuts/lookup", {"lon": 21.028, "lat": 105.852}),
                         ("/", {"district": "Hoan Kiem", "date": "2030-13-45"})]:
        refused = client.get(path, params=params)
        assert refused.status_code == 422 and "cache-control" not in refused.headers, path
    uncached = make_client(OUTAGES_HTTP_PUBLIC_MAX_AGE="0s")
    assert uncached.get("/public/outages").headers["cache-control"] == "no-cache"


def test_district_names_are_each_known_name_once_in_order(engine, people,
                                                           add_customers) -> None:
    from outages.lifecycle import public
    add_customers([{"code": "ND0001", "lon": 105.85, "lat": 21.03, "district": None},
                   {"code": "ND0002", "lon": 105.85, "lat": 21.03, "district": "Dong Anh"}])
    with engine.connect() as conn:
        assert public.districts(conn) == ["Ba Dinh", "Dong Anh", "Hoan Kiem", "Tay Ho"]


def test_an_outage_id_used_again_is_not_answered_from_the_cache(client, engine,
                                                                people) -> None:
    """A database restored or emptied under a running server hands out an id again."""
    start = datetime(2030, 3, 4, 1, 0, tzinfo=UTC)
    first = add_outage(engine, customers=[people["PD0001"]], start=start,
                       area=square(105.852, 21.028))
    params = {"district": "Hoan Kiem", "date": "2030-03-04"}
    assert ids(engine, client.get("/public/cuts", params=params).json()["cuts"]) == [first]
    with engine.begin() as conn:
        for table in ("interruptions", "outage_customers"):
            conn.execute(text(f"DELETE FROM {table} WHERE outage_id = :id"), {"id": first})
        conn.execute(text("DELETE FROM outages WHERE id = :id"), {"id": first})
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('outages', 'id'), :id, "
                              "false)"), {"id": first})
    again = add_outage(engine, customers=[people["PD0003"]], start=start,
                       area=square(105.82, 21.035))
    assert again == first  # same id, same revision: only the creation time differs
    assert client.get("/public/cuts", params=params).json()["cuts"] == []
    ba_dinh = client.get("/public/cuts", params={**params, "district": "Ba Dinh"}).json()
    assert ids(engine, ba_dinh["cuts"]) == [first]
    assert [c["districts"] for c in ba_dinh["cuts"]] == [["Ba Dinh"]]


def test_a_customer_code_typed_in_small_letters_is_found(client, cuts, engine, people,
                                                         add_customers) -> None:
    from outages.lifecycle import reopen

    upper = client.get("/public/cuts/lookup", params={"customer": "PD0002"}).json()["cuts"]
    lower = client.get("/public/cuts/lookup", params={"customer": " pd0002 "}).json()["cuts"]
    assert upper and lower == upper
    ics = client.get("/public/feeds/cuts.ics", params={"customer": "pd0002"}).text
    assert ics.count("BEGIN:VEVENT") == len(upper)
    # The "still no power" button names the customer the same way.
    add_customers([{"code": "pd0009", "lon": 105.852, "lat": 21.028}])  # spelt so in its registry
    with engine.connect() as conn:
        assert reopen.customer_id(conn, "pd0002") == people["PD0002"]
        assert reopen.customer_id(conn, "pd0009") != reopen.customer_id(conn, "PD0009")
        assert reopen.customer_id(conn, "PD0009") is None
        assert reopen.customer_id(conn, "nope") is None
