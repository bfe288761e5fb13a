"""Guesses sent at the same moment meet the sign-in lock-out as if sent one after another."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from outages import db
from outages.access import passwords, sessions
from outages.models import SignInFailure
from tests.support.together import at_once

GUESSES = 10


def test_parallel_guesses_are_checked_no_more_often_than_one_after_another(
    cli: Any, engine: Engine, settings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli("users", "add", "lan.nguyen", "--role", "dispatcher")
    cli("users", "passwd", "lan.nguyen", "--password-stdin", input="a long passphrase\n")
    checked = []
    verify = passwords.verify

    def slow_verify(*args: Any, **kwargs: Any) -> Any:
        checked.append(1)
        time.sleep(0.05)  # argon2 takes its time; every guess is in flight together
        return verify(*args, **kwargs)

    monkeypatch.setattr(passwords, "verify", slow_verify)

    def guess(n: int) -> None:
        with db.write_transaction(engine) as conn:
            sessions.sign_in(conn, settings, name="lan.nguyen", password=f"guess {n}",
                             address=f"10.0.0.{n}")

    at_once(GUESSES, guess)
    # The first FREE_FAILURES guesses are checked; the rest find the name locked.
    assert len(checked) == sessions.FREE_FAILURES
    with engine.connect() as conn:
        counted = conn.execute(select(SignInFailure.failures)
                               .where(SignInFailure.key == "user:lan.nguyen")).scalar_one()
        assert counted == sessions.FREE_FAILURES
        assert conn.execute(select(func.count()).select_from(SignInFailure)).scalar_one() \
            == 1 + sessions.FREE_FAILURES  # the name, and each address that guessed
