"""GET /metrics on the API: a `read` token, the Prometheus text format, and figures that
match what the database holds and what the server answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from notifier.store import outbox
from outages.errors import ConfigError
from outages.settings import load_settings
from outages.timeutil import utcnow
from tests.api.conftest import add_outage
from tests.support.metrics import value


def _scrape(client: TestClient, headers: dict[str, str]) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_need_a_token_whose_role_can_read(client, headers) -> None:
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "outages_" not in anonymous.text
    forged = client.get("/metrics", headers={"Authorization": "Bearer otk_forged"})
    assert forged.status_code == 401
    for role in ("viewer", "engineer", "dispatcher", "admin"):
        assert "outages_http_requests_total" in _scrape(client, headers[role])
    # The security headers still come with it.
    assert client.get("/metrics", headers=headers["viewer"]).headers["x-frame-options"] == "DENY"


def test_active_outages_by_kind_and_outbox_backlog_come_from_the_database(
        client, headers, engine: Engine) -> None:
    for status in ("scheduled", "scheduled", "in_progress", "completed", "cancelled"):
        add_outage(engine, customers=[], status=status)
    for status in ("confirmed", "reported", "restored"):
        add_outage(engine, customers=[], kind="fault", status=status)
    now = utcnow()
    rows = [("pending", "sms", now - timedelta(minutes=7)), ("pending", "sms", now),
            ("pending", "email", now + timedelta(hours=1)), ("sent", "sms", now),
            ("failed", "email", now)]
    with engine.begin() as conn:
        conn.execute(insert(outbox), [
            {"key": f"k{i}", "kind": "announcement", "channel": channel, "recipient": "x",
             "language": "vi", "due_at": due, "status": status}
            for i, (status, channel, due) in enumerate(rows)])
    text = _scrape(client, headers["viewer"])
    assert value(text, "outages_active", kind="planned", status="scheduled") == 2
    assert value(text, "outages_active", kind="planned", status="in_progress") == 1
    assert value(text, "outages_active", kind="planned") == 3
    assert value(text, "outages_active", kind="fault", status="confirmed") == 1
    assert value(text, "outages_active", kind="fault") == 2
    assert value(text, "notifier_outbox_rows", status="pending", channel="sms") == 2
    assert value(text, "notifier_outbox_rows", status="pending", channel="email") == 1
    assert value(text, "notifier_outbox_rows", status="sending", channel="sms") == 0
    # Rows past sending are counted as they are sent (notifier_sends_total), not here.
    assert value(text, "notifier_outbox_rows") == 3
    # The oldest notice due but pending is the one seven minutes late (the scrape is later).
    oldest = value(text, "notifier_outbox_oldest_due_seconds")
    assert 7 * 60 <= oldest < 7 * 60 + 60


def test_no_late_notice_means_an_oldest_age_of_zero(client, headers) -> None:
    text = _scrape(client, headers["viewer"])
    assert value(text, "notifier_outbox_oldest_due_seconds") == 0
    assert value(text, "notifier_outbox_rows") == 0


def test_requests_are_counted_by_route_template_and_status(client, headers, engine) -> None:
    cut = add_outage(engine, customers=[])
    before = _scrape(client, headers["viewer"])
    for outage_id in (cut, cut, 999_999):
        client.get(f"/cuts/{outage_id}", headers=headers["viewer"])
    client.get(f"/cuts/{cut}")  # refused: no token
    client.get("/no/such/page/C0000042")
    after = _scrape(client, headers["viewer"])

    def grew(**labels: str) -> float:
        return (value(after, "outages_http_requests_total", **labels)
                - value(before, "outages_http_requests_total", **labels))

    assert grew(method="GET", route="/cuts/{id}", status="200") == 2
    assert grew(method="GET", route="/cuts/{id}", status="404") == 1
    assert grew(method="GET", route="/cuts/{id}", status="401") == 1
    assert grew(method="GET", route="unmatched", status="404") == 1
    # The scrape before this one is counted too, with its latency.
    assert grew(route="/metrics", status="200") == 1
    assert (value(after, "outages_http_request_seconds_count", route="/cuts/{id}")
            - value(before, "outages_http_request_seconds_count", route="/cuts/{id}")) == 4
    # Paths never become labels: no id, no customer code.
    assert f"/cuts/{cut}\"" not in after and "C0000042" not in after


@pytest.mark.parametrize("listen", ["9100", "localhost:", "host:70000", ":9100"])
def test_a_metrics_address_without_host_and_port_is_refused(test_env, listen) -> None:
    with pytest.raises(ConfigError, match=r"http\.metrics_listen.*HOST:PORT"):
        load_settings(environ={**test_env, "OUTAGES_HTTP_METRICS_LISTEN": listen})
