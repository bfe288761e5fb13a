"""Property-based requests built from the OpenAPI document: whatever they send, the service
answers with a 2xx/4xx, never a server error. Bounded to keep the suite fast. Besides what
the document allows, dates and times are drawn from the edges of the calendar and free text
from very long and control-character strings."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from outages.api import create_app
from outages.settings import load_settings
from tests.api.conftest import add_outage, square

# The document only: requests go to each test's own app and database (see below).
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(load_settings(environ={"OUTAGES_DATABASE_URL": "sqlite://"})))

EDGE_DATES = ("9999-12-31", "0001-01-01", "1969-12-31", "1970-01-01", "2100-12-31",
              "2101-01-01", "2026-02-30")
EDGE_TIMES = (*(f"{day} 20:00" for day in EDGE_DATES), "9999-12-31T23:59:59+14:00",
              "0001-01-01T00:00-12:00", "2100-12-31T23:59-12:00")
ODD_TEXTS = ("x" * 100_000, "x" * 501, "\x00", "a\x07b", "\x1b[2J", "a\u202eb",
             "=HYPERLINK(\"http://x\")", "@SUM(1)")
DATE_KEYS = frozenset({"from", "to", "date"})
TIME_KEYS = frozenset({"start", "end", "at", "started_at"})
TEXT_KEYS = frozenset({"reason", "note", "work", "urgent_reason", "text", "name", "district",
                       "customer", "cause"})


def _with_edges(values: Any, choices: dict[frozenset[str], tuple[str, ...]]) -> Any:
    """A strategy giving `values` with some of its known keys replaced by edge values."""
    if not isinstance(values, dict):
        return st.just(values)
    fields = {}
    for key, value in values.items():
        edges = next((c for keys, c in choices.items() if key in keys), ())
        fields[key] = st.sampled_from((value, *edges)) if edges else st.just(value)
    return st.fixed_dictionaries(fields)


@schema.hook("flatmap_query")
def edge_query(_context: Any, query: Any) -> Any:
    return _with_edges(query, {DATE_KEYS: EDGE_DATES, TEXT_KEYS: ODD_TEXTS})


@schema.hook("flatmap_body")
def edge_body(_context: Any, body: Any) -> Any:
    return _with_edges(body, {TIME_KEYS: EDGE_TIMES, TEXT_KEYS: ODD_TEXTS})


@pytest.fixture
def fuzz_target(make_client, engine, people, headers) -> tuple[Any, dict[str, str]]:
    """An app over a database with customers, a planned cut and a fault; admin headers."""
    add_outage(engine, customers=list(people.values()), area=square(105.852, 21.028))
    add_outage(engine, customers=[people["PD0003"]], kind="fault", status="confirmed",
               area=square(105.82, 21.035))
    client = make_client(OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE="1000000")
    return client.app, headers["admin"]


@schema.parametrize()
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_errors(case, fuzz_target) -> None:
    app, admin = fuzz_target
    response = case.call(app=app, headers=admin)
    case.validate_response(response, checks=[not_a_server_error])
