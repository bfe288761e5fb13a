"""The console for readers without personal data: no caller's home placed by an incident's
area, no priority customer told by the New cut preview; and refused sign-ins logged, in
process over the real app and database."""

from __future__ import annotations

import logging
import re

from fastapi.testclient import TestClient
from shapely.geometry import shape

from outages.console.app import create_server
from tests.console.conftest import PASSWORD, seed


def _client(make_settings, **env: str) -> TestClient:
    return TestClient(create_server(make_settings(OUTAGES_WEB_TILE_URL="", **env)),
                      base_url="http://testserver")


def _sign_in(client: TestClient, name: str, password: str = PASSWORD) -> object:
    form = client.get("/console/sign-in?lang=en")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    return client.post("/console/sign-in", follow_redirects=False, data={
        "username": name, "password": password, "csrf_token": token.group(1)})


def test_failed_console_sign_ins_are_logged_as_refusals(db_url, make_settings,
                                                        caplog) -> None:
    # README (Security): "Each 401, 403 and 429 is logged at WARNING" so that an operator
    # sees guessed credentials; the console's own 401/403 are logged, its sign-in is not.
    seed(db_url)
    caplog.set_level(logging.WARNING, logger="outages.api.errors")
    with _client(make_settings) as client:
        answers = [_sign_in(client, "dispatcher", "wrong password!") for _ in range(6)]
    statuses = [a.status_code for a in answers]  # type: ignore[attr-defined]
    assert statuses[:5] == [401] * 4 + [429] and 429 in statuses
    lines = [r.getMessage() for r in caplog.records if r.name == "outages.api.errors"]
    assert any(line.startswith("refused 401 POST /sign-in") for line in lines), lines
    assert any(line.startswith("refused 429 POST /sign-in") for line in lines), lines


def test_viewer_map_does_not_pinpoint_a_callers_home(db_url, make_settings) -> None:
    # README: viewers and engineers get coordinates rounded to 2 decimals (about 1 km) "in
    # the API and the console's maps alike". One located call opens an incident; its
    # proposed area (drawn for reported incidents) is a circle centred on the caller's home.
    tokens = seed(db_url)
    home = (105.85237, 21.02871)
    with _client(make_settings) as client:
        reported = client.post("/faults/reports", headers={
            "Authorization": f"Bearer {tokens['dispatcher']}"},
            json={"lon": home[0], "lat": home[1], "text": "no power"})
        assert reported.status_code == 201, reported.text
        assert _sign_in(client, "viewer").status_code == 303  # type: ignore[attr-defined]
        # The reports layer rounds the point for a viewer, as promised ...
        points = client.get("/console/map/reports.geojson").json()["features"]
        assert points[0]["geometry"]["coordinates"] == [105.85, 21.03]
        # ... and the outages layer does not draw the proposed circle around the home, nor
        # does the incidents list.
        layer = client.get("/console/map/outages.geojson").json()["features"]
        assert [f for f in layer if f["properties"]["proposed"]] == []
        [incident] = client.get("/console/map/incidents.json").json()["incidents"]
        assert incident["area"] is None
    with _client(make_settings) as client:  # a dispatcher sees it, centred on the home
        assert _sign_in(client, "dispatcher").status_code == 303  # type: ignore[attr-defined]
        layer = client.get("/console/map/outages.geojson").json()["features"]
        [proposed] = [f for f in layer if f["properties"]["proposed"]]
        centre = shape(proposed["geometry"]).centroid
        assert abs(centre.x - home[0]) < 1e-4 and abs(centre.y - home[1]) < 1e-4


def test_viewer_new_cut_preview_does_not_reveal_a_priority_customer(db_url,
                                                                    make_settings) -> None:
    # CS0002 is on life support. The API's /areas/preview blanks "priority" for viewers and
    # engineers (tests/api/test_priority.py); the console's preview, open to every role,
    # answers a viewer's tiny square around one house with its priority count.
    tokens = seed(db_url)
    around = {"type": "Polygon", "coordinates": [[
        [105.8529, 21.0289], [105.8531, 21.0289], [105.8531, 21.0291], [105.8529, 21.0291],
        [105.8529, 21.0289]]]}
    with _client(make_settings) as client:
        api = client.post("/areas/preview", json=around,
                          headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()
        assert api["count"] == 1, api
        assert api["priority"] is None  # the API keeps it from a viewer
        assert _sign_in(client, "viewer").status_code == 303  # type: ignore[attr-defined]
        csrf = re.search(r'<meta name="csrf-token" content="([^"]*)">',
                         client.get("/console/cuts").text).group(1)  # type: ignore[union-attr]
        answer = client.post("/console/map/preview", json={"area": around},
                             headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 200, answer.text
        shown = answer.json()
        assert shown["count"] == 1
        assert not shown.get("priority"), {k: shown[k] for k in ("count", "priority",
                                                                  "warnings")}
