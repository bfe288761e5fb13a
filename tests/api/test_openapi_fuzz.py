"""Property-based requests built from the OpenAPI document: whatever they send, the service
answers with a 2xx/4xx, never a server error. Bounded to keep the suite fast."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from outages.api import create_app
from outages.settings import load_settings
from tests.api.conftest import add_outage, square

# The document only: requests go to each test's own app and database (see below).
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(load_settings(environ={"OUTAGES_DATABASE_URL": "sqlite://"})))


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
