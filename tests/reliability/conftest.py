from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from outages.reliability.report import Request, compute
from outages.reliability.results import ReliabilityReport
from outages.settings import Settings

Report = Callable[..., ReliabilityReport]


@pytest.fixture
def report(engine: Engine, settings: Settings) -> Report:
    """Compute the report as its API answer: report("2025-01-01", "2025-12-31", by=...,
    settings_=...)."""

    def run(first: str, last: str, *, settings_: Settings | None = None,
            **options: Any) -> ReliabilityReport:
        request = Request(date.fromisoformat(first), date.fromisoformat(last), **options)
        with engine.connect() as conn:
            return compute(conn, settings_ or settings, request).to_json()

    return run
