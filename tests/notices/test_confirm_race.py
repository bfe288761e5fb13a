"""Codes typed at the same moment meet the attempt limit as if typed one after another."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine

from outages import db
from outages.notices import subscriptions
from outages.registry import subscriptions as store
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.together import at_once

GUESSES = 8


def test_parallel_guesses_of_a_code_are_checked_no_more_often_than_allowed(
    engine: Engine, settings: Settings, add_customers: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_customers(h.customers(1))
    with db.write_transaction(engine) as conn:
        token = subscriptions.request(conn, settings, target="C0000000",
                                      contact_text="watcher@example.test", language="vi")
    checked = []
    code_hash = store.code_hash

    def slow_hash(*args: Any) -> Any:
        checked.append(1)
        time.sleep(0.05)  # every guess is in flight together
        return code_hash(*args)

    monkeypatch.setattr(store, "code_hash", slow_hash)
    answers: list[str] = []

    def guess(n: int) -> None:
        with db.write_transaction(engine) as conn:
            answers.append(subscriptions.confirm(conn, settings, token=token,
                                                 code=f"{n:06d}x"))

    at_once(GUESSES, guess)
    allowed = settings.subscriptions.max_attempts
    assert len(checked) == allowed
    assert sorted(answers) == sorted(["wrong"] * (allowed - 1)
                                     + ["invalid"] * (GUESSES - allowed + 1))
