"""A bearer token and a console session are accepted while another connection writes: on
SQLite a read transaction that turns into a write after another connection committed fails
at once with 'database is locked' (no busy wait), so recording their use must not do that."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine, event, select, text

from outages.access import auth, sessions
from outages.api.deps import current_user
from outages.console.session import _resume
from outages.models import ApiToken, ConsoleSession


@pytest.fixture
def write_after_reading(engine: Engine) -> Iterator[Callable[[str], list[str]]]:
    """Once a statement reading `table` has run, another connection writes and commits, as
    a worker would between a request's read and its write; the tables written."""
    written: list[str] = []
    watched: list[str] = []

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if watched and statement.lstrip().upper().startswith("SELECT") \
                and f"FROM {watched[0]}" in statement and not written:
            with engine.begin() as other:  # a change: SQLite skips a write that changes nothing
                other.execute(text("INSERT INTO sms_opt_outs (phone, at) "
                                   "VALUES ('+84900000001', '2026-01-01 00:00:00.000000')"))
            written.append("sms_opt_outs")

    def watch(table: str) -> list[str]:
        watched.append(table)
        return written

    event.listen(engine, "after_cursor_execute", after)
    yield watch
    event.remove(engine, "after_cursor_execute", after)


def test_a_token_is_accepted_and_its_use_recorded_while_another_connection_writes(
        engine: Engine, write_after_reading: Callable[[str], list[str]]) -> None:
    with engine.begin() as conn:
        auth.add_user(conn, name="lan", role="dispatcher", actor="setup", source="cli")
        token, _ = auth.create_token(conn, name="lan", actor="setup", source="cli")
    written = write_after_reading("api_tokens")
    user = current_user(_Request(), HTTPAuthorizationCredentials(scheme="Bearer",
                                                                  credentials=token), engine)
    assert written == ["sms_opt_outs"]  # the other write happened between the read and ours
    assert user.name == "lan"
    with engine.connect() as conn:
        assert conn.execute(select(ApiToken.last_used_at)).scalar_one() is not None


def test_a_console_session_is_resumed_and_its_request_recorded_while_another_connection_writes(
        engine: Engine, settings: Any, write_after_reading: Callable[[str], list[str]]) -> None:
    with engine.begin() as conn:
        auth.add_user(conn, name="lan", role="dispatcher", actor="setup", source="cli")
    from outages.access import passwords

    with engine.begin() as conn:
        passwords.set_password(conn, name="lan", password="a long passphrase", actor="setup",
                               source="cli")
        opened = sessions.sign_in(conn, settings, name="lan", password="a long passphrase",
                                  address="127.0.0.1")
        seen = conn.execute(select(ConsoleSession.last_seen_at)).scalar_one()
        conn.execute(ConsoleSession.__table__.update().values(  # seen long enough ago
            last_seen_at=seen - settings.web.session_idle / 2))
    assert opened.secret
    written = write_after_reading("console_sessions")
    resumed = _resume(engine, settings, opened.secret)
    assert written == ["sms_opt_outs"]
    assert resumed is not None and resumed.user.name == "lan"


class _Request:
    """What current_user reads of a request: no principal found before."""

    class state:
        pass
