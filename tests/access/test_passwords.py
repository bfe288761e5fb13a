"""Console passwords: `outages users passwd`, argon2 hashes, sessions ended on a change."""

from __future__ import annotations

from sqlalchemy import select

from outages.access import passwords, sessions
from outages.models import AuditEntry, User


def test_passwd_from_stdin_stores_a_hash_and_audits_without_the_password(cli, engine,
                                                                         settings) -> None:
    assert cli("users", "add", "lan.nguyen", "--role", "dispatcher").exit_code == 0
    result = cli("users", "passwd", "lan.nguyen", "--password-stdin",
                 input="a long passphrase\nnext line ignored\n")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash)).scalar_one()
        audit = conn.execute(select(AuditEntry.action, AuditEntry.after)
                             .where(AuditEntry.action == "user.password")).one()
        assert stored.startswith("$argon2id$") and "passphrase" not in stored
        assert audit.after == {"password": "set"}
        assert passwords.verify(conn, "lan.nguyen", "a long passphrase") is not None
        assert passwords.verify(conn, "lan.nguyen", "a long passphrase\n") is None


def test_passwd_prompts_twice_and_refuses_a_short_one(cli, engine) -> None:
    cli("users", "add", "lan.nguyen", "--role", "viewer")
    short = cli("users", "passwd", "lan.nguyen", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "10 to 200 characters" in short.output
    typed = cli("users", "passwd", "lan.nguyen", input="first one here\nsecond one\n"
                "the same twice\nthe same twice\n")
    assert typed.exit_code == 0, typed.output
    assert "do not match" in typed.output
    with engine.connect() as conn:
        assert passwords.verify(conn, "lan.nguyen", "the same twice") is not None
    assert cli("users", "passwd", "nobody", "--password-stdin",
               input="a long passphrase\n").exit_code == 3


def test_a_new_password_ends_the_users_sessions(cli, engine, settings) -> None:
    cli("users", "add", "lan.nguyen", "--role", "viewer")
    cli("users", "passwd", "lan.nguyen", "--password-stdin", input="a long passphrase\n")
    with engine.begin() as conn:
        opened = sessions.sign_in(conn, settings, name="lan.nguyen",
                                  password="a long passphrase", address="127.0.0.1")
        assert opened.secret and sessions.resume(conn, settings, opened.secret) is not None
    cli("users", "passwd", "lan.nguyen", "--password-stdin", input="another passphrase\n")
    with engine.begin() as conn:
        assert sessions.resume(conn, settings, opened.secret) is None


def test_a_session_ends_at_the_absolute_limit_however_active(cli, engine, settings) -> None:
    import time_machine

    from outages.timeutil import utcnow

    cli("users", "add", "lan.nguyen", "--role", "viewer")
    cli("users", "passwd", "lan.nguyen", "--password-stdin", input="a long passphrase\n")
    with time_machine.travel(utcnow(), tick=False) as clock, engine.begin() as conn:
        opened = sessions.sign_in(conn, settings, name="lan.nguyen",
                                  password="a long passphrase", address="127.0.0.1")
        assert opened.secret
        for _ in range(3):  # every 7 h: within web.session_idle (8 h), up to 21 h
            clock.shift(7 * 3600)
            assert sessions.resume(conn, settings, opened.secret) is not None
        clock.shift(4 * 3600)  # 25 h after sign-in: past web.session_max (24 h)
        assert sessions.resume(conn, settings, opened.secret) is None
