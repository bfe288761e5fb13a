"""HTTP fixtures: the real app over the test database, users of every role with tokens,
signed Twilio requests, and seeded cuts with customers who have names and phone numbers."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select
from twilio.request_validator import RequestValidator

from outages.access import auth
from outages.api import create_app
from outages.models import Customer, Interruption, Outage, OutageCustomer
from outages.settings import Settings, load_settings
from outages.timeutil import utcnow
from tests.conftest import insert_customers

AUTH_TOKEN = "test-twilio-auth-token"
BASE = "http://testserver"


@pytest.fixture
def http_env(test_env: dict[str, str]) -> dict[str, str]:
    # Keyword tests text many times from one number; the limits have their own tests.
    return {**test_env, "OUTAGES_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "OUTAGES_TWILIO_INBOUND_PER_HOUR": "1000", "OUTAGES_TWILIO_REPLIES_PER_HOUR": "1000",
            # Tests read the feeds right after a change; test_feeds covers the interval.
            "OUTAGES_PUBLIC_RECHECK": "0s"}


@pytest.fixture
def make_client(http_env: dict[str, str]) -> Iterator[Callable[..., TestClient]]:
    """A TestClient over a fresh app; keyword arguments are extra OUTAGES_* settings."""
    clients: list[TestClient] = []

    def build(**env: str) -> TestClient:
        settings = load_settings(environ={**http_env, **env})
        client = TestClient(create_app(settings), base_url=BASE)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def app_settings(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings


@pytest.fixture
def headers(engine: Engine) -> dict[str, dict[str, str]]:
    """Authorization headers for a user of each role (named after the role)."""
    result = {}
    with engine.begin() as conn:
        for role in ("admin", "dispatcher", "engineer", "viewer"):
            auth.add_user(conn, name=role, role=role, actor="setup", source="cli")
            token, _ = auth.create_token(conn, name=role, actor="setup", source="cli")
            result[role] = {"Authorization": f"Bearer {token}"}
    return result


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


@pytest.fixture
def twilio_post(client: TestClient) -> Callable[..., Any]:
    """POST form `params` to `path`, signed for `signed_url` (default: the URL posted to).
    An inbound SMS gets a new MessageSid unless `params` has one, as Twilio gives each."""
    sids = itertools.count(1)

    def post(path: str, params: Mapping[str, str], *, signed_url: str | None = None,
             signature: str | None = None, target: TestClient | None = None) -> Any:
        url = BASE + path
        if path == "/twilio/inbound" and "From" in params and "MessageSid" not in params:
            params = {**params, "MessageSid": f"SMin{next(sids):06d}"}
        sig = signature if signature is not None else sign(signed_url or url, params)
        extra = {"X-Twilio-Signature": sig} if sig else {}
        return (target or client).post(
            path, content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", **extra})

    return post


PEOPLE = [
    # code, name, phone, district, lon, lat, language
    ("PD0001", "Nguyễn Văn An", "+84912345001", "Hoan Kiem", 105.852, 21.028, "vi"),
    ("PD0002", "Trần Thị Bình", "+84912345002", "Hoan Kiem", 105.853, 21.029, "vi"),
    ("PD0003", "John Smith", "+84912345003", "Ba Dinh", 105.820, 21.035, "en"),
    ("PD0004", "Lê Văn Cường", "+84912345004", "Ba Dinh", 105.821, 21.036, "vi"),
    ("PD0005", "Phạm Thị Dung", "+84912345001", "Tay Ho", 105.818, 21.070, "vi"),
]


def add_people(engine: Engine) -> dict[str, int]:
    """Customers with names, phones and emails; returns code -> id."""
    insert_customers(engine, [
        {"code": code, "name": name, "phone": phone, "email": f"{code.lower()}@example.vn",
         "district": district, "lon": lon, "lat": lat, "language": lang,
         "address": f"{code} Pho Hue"}
        for code, name, phone, district, lon, lat, lang in PEOPLE
    ])
    with engine.connect() as conn:
        rows = conn.execute(select(Customer.__table__.c.code, Customer.__table__.c.id)).all()
    return {code: cid for code, cid in rows}


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    return add_people(engine)


def square(lon: float, lat: float, half: float = 0.01) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]}


def add_outage(engine: Engine, *, customers: Sequence[int], kind: str = "planned",
               status: str = "scheduled", start: datetime | None = None,
               hours: float = 4, area: dict[str, Any] | None = None,
               area_name: str = "Pho Hue", reason: str = "Bao duong tram bien ap",
               etr: datetime | None = None, dropped: Sequence[int] = (),
               restored: Sequence[int] = ()) -> int:
    """An outage with its affected set written straight to the tables (as the lifecycle
    would); `dropped` members were removed by a resize, `restored` got power back."""
    start = start or utcnow() + timedelta(days=6)
    with engine.begin() as conn:
        outage_id = conn.execute(insert(Outage.__table__).values(
            kind=kind, status=status, area_name=area_name, reason=reason,
            area_geojson=json.dumps(area) if area else None,
            planned_start=start if kind == "planned" else None,
            planned_end=start + timedelta(hours=hours) if kind == "planned" else None,
            actual_start=start if status != "scheduled" else None, etr=etr,
            revision=2 if dropped else 1, created_at=utcnow(), updated_at=utcnow(),
        ).returning(Outage.__table__.c.id)).scalar_one()
        members = [{"outage_id": outage_id, "customer_id": c, "added_revision": 1,
                    "dropped_revision": 2 if c in dropped else None} for c in customers]
        if members:
            conn.execute(insert(OutageCustomer.__table__), members)
        ends = [{"outage_id": outage_id, "customer_id": c, "planned": kind == "planned",
                 "start_at": start, "end_at": start + timedelta(hours=1)} for c in restored]
        if ends:
            conn.execute(insert(Interruption.__table__), ends)
    return int(outage_id)
