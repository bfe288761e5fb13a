"""The console under test: one `outages serve` per test module over its own database, users
of every role with a console password (and an API token), and ways to sign in from
Playwright and from httpx.

    def test_x(console, page): sign_in(page, console, "dispatcher") ...
    def test_y(console): with signed_client(console, "viewer") as client: client.post(...)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Connection, Table, insert, select, update

from outages import db
from outages.access import auth, passwords
from outages.models import Customer, User
from tests.support.playwright import browser, foreign_requests, page  # noqa: F401  (fixtures)
from tests.support.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "correct horse battery"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ROLES = ("admin", "dispatcher", "engineer", "viewer")
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@dataclass
class Console:
    """A running server: its base URL, database URL, env, and an API token per role."""

    base: str
    db_url: str
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.base + "/console"

    def create_cut(self, *, days: float = 10, hours: float = 4,
                   area: dict[str, Any] | None = None) -> int:
        """A cut over the Hoan Kiem customers created through the API, `days` ahead."""
        start = (datetime.now(UTC) + timedelta(days=days)).astimezone(HANOI)
        body = {"area": area or HOAN_KIEM, "reason": "Bảo dưỡng trạm biến áp",
                "start": start.strftime("%Y-%m-%dT%H:00"),
                "end": (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:00")}
        with self.api() as client:
            answer = client.post("/cuts", json=body)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def api(self, role: str = "dispatcher") -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30,
                            headers={"Authorization": f"Bearer {self.tokens[role]}"})


@pytest.fixture(scope="module")
def console_db(module_db_url: str) -> str:
    """A migrated database of the backend under test, for one module's server."""
    return module_db_url


# code, name, phone, district, feeder, lon, lat, priority
CUSTOMERS = [
    ("CS0001", "Nguyễn Văn An", "+84912345001", "Hoan Kiem", "F471", 105.852, 21.028, None),
    ("CS0002", "Trần Thị Bình", "+84912345002", "Hoan Kiem", "F471", 105.853, 21.029,
     "life_support"),
    ("CS0003", "John Smith", "+84912345003", "Hoan Kiem", "F472", 105.851, 21.027, None),
    ("CS0004", "Lê Văn Cường", "+84912345004", "Ba Dinh", "F480", 105.820, 21.035, None),
]


def square(lon: float, lat: float, half: float = 0.01) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]}


HOAN_KIEM = square(105.852, 21.028)  # the first three customers


def seed(db_url: str, password: str = PASSWORD) -> dict[str, str]:
    """Customers, and a user named after each role with `password`; their API tokens."""
    engine = db.make_engine(db_url)
    tokens = {}
    with engine.begin() as conn:
        conn.execute(insert(Customer.__table__), [
            {"code": code, "name": name, "phone": phone, "district": district,
             "feeder": feeder, "lon": lon, "lat": lat, "priority": priority,
             "address": f"{code} Pho Hue"}
            for code, name, phone, district, feeder, lon, lat, priority in CUSTOMERS])
        for role in ROLES:
            auth.add_user(conn, name=role, role=role, actor="setup", source="cli")
            tokens[role], _ = auth.create_token(conn, name=role, actor="setup", source="cli")
        _give_password(conn, password)
    engine.dispose()
    return tokens


_HASHES: dict[str, str] = {}


def _give_password(conn: Connection, password: str) -> None:
    """Every user gets `password`: set the product's way for the first, the first time in this
    process; after that its stored hash is copied. An argon2 hash costs a few tenths of a
    second of CPU, and the suite seeds four users some twenty times."""
    users = cast(Table, User.__table__)
    if password not in _HASHES:
        passwords.set_password(conn, name=ROLES[0], password=password, actor="setup",
                               source="cli")
        _HASHES[password] = conn.execute(
            select(users.c.password_hash).where(users.c.name == ROLES[0])).scalar_one()
    conn.execute(update(users).values(password_hash=_HASHES[password]))


def start_console(db_url: str, *extra: str, **env: str) -> Iterator[Console]:
    """Seed `db_url` and serve it (`extra`: more `outages serve` options)."""
    full = {"OUTAGES_DATABASE_URL": db_url, "OUTAGES_WEB_TILE_URL": "", **env}
    tokens = seed(db_url)
    with running_server(full, *extra) as base:
        yield Console(base=base, db_url=db_url, env=full, tokens=tokens)


@pytest.fixture(scope="module")
def console(console_db: str) -> Iterator[Console]:
    yield from start_console(console_db)


def sign_in(tab: Page, console: Console, name: str, password: str = PASSWORD,
            language: str = "en") -> None:
    """Sign in through the form (English labels unless `language` is vi)."""
    tab.goto(f"{console.url}/sign-in?lang={language}")
    labels = {"en": ("Username", "Password", "Sign in"),
              "vi": ("Tên đăng nhập", "Mật khẩu", "Đăng nhập")}[language]
    tab.get_by_label(labels[0]).fill(name)
    tab.get_by_label(labels[1]).fill(password)
    tab.get_by_role("button", name=labels[2], exact=True).click()


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in_form(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Post the sign-in form as a browser would (its CSRF cookie and field)."""
    form = client.get("/console/sign-in?lang=en")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    return client.post("/console/sign-in", data={"username": name, "password": password,
                                                 "csrf_token": token.group(1)})


@pytest.fixture
def signed_client(console: Console) -> Iterator[Any]:
    """signed_client(role) -> (httpx client with the session cookie, its CSRF token)."""
    clients: list[httpx.Client] = []

    def build(name: str) -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=console.base, timeout=30)
        clients.append(client)
        answer = sign_in_form(client, name)
        assert answer.status_code == 303, answer.text
        return client, csrf_of(client.get("/console/cuts").text)

    yield build
    for client in clients:
        client.close()
