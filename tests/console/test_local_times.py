"""The console shows every time in locale.timezone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from outages.console.app import create_server
from outages.models import User
from tests.console.conftest import PASSWORD, seed


def test_users_page_shows_creation_time_in_local_time(db_url, engine, make_settings) -> None:
    """A user created at 2026-12-07 01:00 UTC is listed as created at 08:00 in Hanoi."""
    seed(db_url)
    with engine.begin() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.name == "viewer")
                     .values(created_at=datetime(2026, 12, 7, 1, 0, tzinfo=UTC)))
    with TestClient(create_server(make_settings(OUTAGES_WEB_TILE_URL="")),
                    base_url="http://testserver") as client:
        form = client.get("/console/sign-in?lang=en")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        client.post("/console/sign-in", follow_redirects=False, data={
            "username": "admin", "password": PASSWORD, "csrf_token": token.group(1)})
        page = client.get("/console/users?lang=en").text
    shown = re.findall(r"<td>viewer</td>.*?</tr>", page, re.S)
    assert shown, page[:3000]
    assert "07/12/2026 08:00" in shown[0], shown[0]
