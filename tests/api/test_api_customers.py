"""The customer registry and area preview over HTTP."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from outages.models import AuditEntry
from tests.api.conftest import square

CSV_GOOD = ("code,name,phone,email,lon,lat,district,feeder,language\n"
            "NEW001,Đỗ Minh,0912000001,minh@example.vn,105.85,21.03,Hoan Kiem,HK-1,vi\n"
            "PD0001,Nguyễn Văn An,0912345111,,105.852,21.028,Hoan Kiem,HK-1,vi\n")
CSV_BAD_ROW = "NEW002,Bad,0912000002,,21.03,105.85,Hoan Kiem,HK-1,vi\n"


def _upload(client, headers, text: str, name: str = "registry.csv"):
    return client.post("/customers/import", headers=headers,
                       files={"file": (name, text.encode("utf-8"), "text/csv")})


def test_import_upload_counts_rejects_and_audit(client, headers, people, engine, cli) -> None:
    response = _upload(client, headers["admin"], CSV_GOOD + CSV_BAD_ROW)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["imported"], body["updated"], body["rejected"]) == (1, 1, 1)
    rejects = list(csv.DictReader(io.StringIO(body["rejects_csv"])))
    assert [r["code"] for r in rejects] == ["NEW002"] and "swap" in rejects[0]["reason"]
    shown = json.loads(cli("customers", "show", "PD0001", "--json").stdout)
    assert shown["phone"] == "+84912345111"
    with engine.connect() as conn:
        entry = conn.execute(select(AuditEntry.__table__).where(
            AuditEntry.action == "customers.import")).one()
    assert (entry.actor, entry.source, entry.entity_id) == ("admin", "http", "registry.csv")
    assert entry.after == {"imported": 1, "updated": 1, "rejected": 1}


def test_import_geojson_and_refusals(client, headers, people) -> None:
    geojson = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [105.84, 21.02]},
        "properties": {"code": "GJ1", "name": "A", "district": "Ba Dinh"}}]}
    response = _upload(client, headers["admin"], json.dumps(geojson), "points.geojson")
    assert response.status_code == 200 and response.json()["imported"] == 1, response.text
    assert response.json()["rejects_csv"] is None
    empty = _upload(client, headers["admin"], "")
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    no_file = client.post("/customers/import", headers=headers["admin"])
    assert no_file.status_code == 422
    assert _upload(client, headers["dispatcher"], CSV_GOOD).status_code == 403
    assert _upload(client, {}, CSV_GOOD).status_code == 401


def test_upload_over_the_body_limit(make_client, headers, people) -> None:
    small = make_client(OUTAGES_HTTP_MAX_BODY_BYTES="1024")
    assert _upload(small, headers["admin"], CSV_GOOD * 20).status_code == 413


def test_list_filters_pages_and_redacts(client, headers, people) -> None:
    page = client.get("/customers", params={"district": "Ba Dinh", "limit": 1},
                      headers=headers["dispatcher"])
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 2 and [c["code"] for c in body["customers"]] == ["PD0003"]
    assert body["customers"][0]["phone"] == "+84912345003"
    second = client.get("/customers", params={"district": "Ba Dinh", "limit": 1, "offset": 1},
                        headers=headers["dispatcher"]).json()
    assert [c["code"] for c in second["customers"]] == ["PD0004"]
    for role in ("viewer", "engineer"):
        hidden = client.get("/customers", headers=headers[role])
        assert hidden.status_code == 200 and hidden.json()["total"] == 5
        assert "+8491" not in hidden.text and "example.vn" not in hidden.text
        assert "Nguyễn" not in hidden.text and "Pho Hue" not in hidden.text
    assert client.get("/customers").status_code == 401
    assert client.get("/customers", params={"limit": -1},
                      headers=headers["admin"]).status_code == 422


def test_show_is_the_cli_view(client, headers, people, cli) -> None:
    api = client.get("/customers/PD0003", headers=headers["admin"])
    assert api.json() == json.loads(cli("customers", "show", "PD0003", "--json").stdout)
    viewer = client.get("/customers/PD0003", headers=headers["viewer"]).json()
    assert viewer["phone"] is None and viewer["name"] is None and viewer["district"] == "Ba Dinh"
    missing = client.get("/customers/NOPE", headers=headers["admin"])
    assert missing.status_code == 404 and missing.json()["field"] == "code"


def test_update_contact_and_opt_outs(client, headers, people, engine) -> None:
    changed = client.patch("/customers/PD0002", headers=headers["admin"],
                           json={"phone": "0987654321", "sms_opt_out": True, "email": None})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["phone"], body["sms_opt_out"], body["email"]) == ("+84987654321", True, None)
    with engine.connect() as conn:
        entry = conn.execute(select(AuditEntry.__table__).where(
            AuditEntry.action == "customer.update")).one()
    assert (entry.actor, entry.source, entry.entity_id) == ("admin", "http", "PD0002")
    assert entry.before["phone"] == "+84912345002" and entry.after["sms_opt_out"] is True
    bad = client.patch("/customers/PD0002", headers=headers["admin"], json={"phone": "12"})
    assert bad.status_code == 422 and bad.json()["field"] == "phone"
    nothing = client.patch("/customers/PD0002", headers=headers["admin"], json={})
    assert nothing.status_code == 422
    name = client.patch("/customers/PD0002", headers=headers["admin"], json={"name": "X"})
    assert name.status_code == 422
    assert client.patch("/customers/NOPE", headers=headers["admin"],
                        json={"language": "en"}).status_code == 404
    assert client.patch("/customers/PD0002", headers=headers["dispatcher"],
                        json={"language": "en"}).status_code == 403


def test_area_preview_matches_cli(client, headers, people, cli) -> None:
    area = square(105.8525, 21.0285, 0.002)
    api = client.post("/areas/preview", json=area, headers=headers["viewer"])
    assert api.status_code == 200, api.text
    from_cli = json.loads(cli("area", "preview", json.dumps(area), "--json").stdout)
    # The count of priority customers is personal data: a viewer does not get it.
    assert api.json() == {**from_cli, "priority": None} and from_cli["priority"] == 0
    assert api.json()["customers"] == ["PD0001", "PD0002"]
    feeder = client.post("/areas/preview", json=area, params={"feeder": "none"},
                         headers=headers["viewer"])
    assert feeder.json()["count"] == 0
    bow_tie = {"type": "Polygon", "coordinates": [[[105.85, 21.02], [105.86, 21.03],
                                                   [105.86, 21.02], [105.85, 21.03],
                                                   [105.85, 21.02]]]}
    refused = client.post("/areas/preview", json=bow_tie, headers=headers["viewer"])
    assert refused.status_code == 422 and refused.json()["field"] == "area"
    repaired = client.post("/areas/preview", json=bow_tie, params={"repair": True},
                           headers=headers["viewer"])
    assert repaired.status_code == 200 and repaired.json()["repairs"]
    assert client.post("/areas/preview", json=area).status_code == 401


def test_area_vertex_limit_names_the_limit(make_client, headers, people) -> None:
    small = make_client(OUTAGES_HTTP_MAX_AREA_VERTICES="4")
    refused = small.post("/areas/preview", json=square(105.85, 21.03),
                         headers=headers["viewer"])
    assert refused.status_code == 422 and "4" in refused.json()["detail"]


def test_update_channel_preference(client, headers, people) -> None:
    changed = client.patch("/customers/PD0002", headers=headers["admin"],
                           json={"channels": "Zalo, sms"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["channels"] == "zalo,sms"
    bad = client.patch("/customers/PD0002", headers=headers["admin"], json={"channels": "fax"})
    assert bad.status_code == 422 and bad.json()["field"] == "channels"
    assert "not fax" in bad.text
    cleared = client.patch("/customers/PD0002", headers=headers["admin"], json={"channels": ""})
    assert cleared.json()["channels"] is None


def test_an_import_stopped_part_way_audits_what_it_stored(make_client, headers,
                                                         engine) -> None:
    from sqlalchemy import func

    from outages.models import Customer

    client = make_client(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    rows = "".join(f"K{i:05d},105.85,21.03\n" for i in range(5000))
    body = ("code,lon,lat\n" + rows).encode() + b"K99999,105.85,21.03,\xff\n"
    response = client.post("/customers/import", headers=headers["admin"],
                           files={"file": ("registry.csv", body, "text/csv")})
    assert response.status_code == 422, response.text
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
        [entry] = conn.execute(select(AuditEntry.after).where(
            AuditEntry.action == "customers.import")).scalars().all()
    after = json.loads(entry) if isinstance(entry, str) else entry
    assert stored > 0 and after["imported"] == stored
    assert "stopped" in after
