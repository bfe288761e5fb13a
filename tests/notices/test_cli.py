"""`outages notices preview|list|stats` and `outages run --until-idle` on the console channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from notifier.store import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.settings import Settings
from tests.notices import helpers as h


def _cut(engine: Engine, settings: Settings, add_customers: Any) -> int:
    settings = settings.model_copy(update={"notices": settings.notices.model_copy(
        update={"quiet_hours": ""})})
    add_customers(h.customers(3, email=True) + h.customers(2, start=10, language="en"))
    now = datetime.now(UTC)
    start = (now + timedelta(days=6)).replace(microsecond=0)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=4),
                          members=h.customer_ids(engine))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, now))
    return outage


def test_preview_shows_texts_segments_and_totals(
    engine: Engine, settings: Settings, add_customers: Any, cli: Any,
) -> None:
    outage = _cut(engine, settings, add_customers)
    result = cli("notices", "preview", "--cut", str(outage), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    sms = {m["language"]: m for m in data["messages"] if m["channel"] == "sms"}
    assert (sms["vi"]["recipients"], sms["en"]["recipients"]) == (3, 2)
    assert sms["vi"]["encoding"] == "GSM-7" and sms["vi"]["segments"] == 1
    assert data["totals"]["messages"] == 8  # 5 SMS + 3 emails
    assert data["totals"]["segments"] == 5
    assert abs(data["totals"]["cost"] - 5 * 0.0075) < 1e-9
    text = cli("notices", "preview", "--cut", str(outage), "--language", "en")
    assert "Power will be off in Phường Láng Hạ" in text.stdout
    assert "Total: 2 messages, 2 SMS segments" in text.stdout


def test_preview_refuses_bad_input(engine: Engine, settings: Settings, add_customers: Any,
                                   cli: Any) -> None:
    outage = _cut(engine, settings, add_customers)
    assert cli("notices", "preview").exit_code == 2
    missing = cli("notices", "preview", "--fault", str(outage))
    assert missing.exit_code == 3 and "no fault with id" in missing.stderr
    bad = cli("notices", "preview", "--cut", str(outage), "--kind", "party")
    assert bad.exit_code == 2 and "unknown notice kind 'party'" in bad.stderr


def test_run_sends_due_notices_to_console_file_then_list_and_stats(
    engine: Engine, settings: Settings, add_customers: Any, cli: Any, tmp_path: Path,
) -> None:
    _cut(engine, settings, add_customers)
    sink = tmp_path / "console.jsonl"
    env = {"OUTAGES_NOTICES_CONSOLE_PATH": str(sink), "OUTAGES_NOTICES_QUIET_HOURS": ""}
    result = cli("run", "--once", **env)
    assert result.exit_code == 0, result.stderr
    assert "no provider configured for sms, email" in result.stderr
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert sorted((m["channel"], m["kind"]) for m in lines) == \
        [("email", "announcement")] * 3 + [("sms", "announcement")] * 5
    listed = json.loads(cli("notices", "list", "--status", "sent", "--json").stdout)
    assert len(listed) == 8 and all(r["sent_at"].endswith("+07:00") for r in listed)
    with engine.begin() as conn:  # what providers and customers said since
        ids = list(conn.execute(select(Customer.id).order_by(Customer.id)).scalars())
        conn.execute(update(Customer).where(Customer.id == ids[0])
                     .values(email_invalid=True, phone_invalid=True))
        conn.execute(update(Customer).where(Customer.id == ids[1]).values(sms_opt_out=True))
    stats = json.loads(cli("notices", "stats", "--json").stdout)
    # A number that cannot take an SMS is no use to Zalo either.
    assert stats["unreachable"] == {"sms": {"opted_out": 1, "invalid_address": 1},
                                    "email": {"opted_out": 0, "invalid_address": 1},
                                    "zalo": {"invalid_address": 1}}
    assert stats["by_status"] == {"sent": 8, "pending": 16}
    assert stats["by_channel"]["sms"] == {"sent": 5, "pending": 10}
    assert stats["delivery_rate"] == 1.0
    assert stats["sms_segments"] == 5 and abs(stats["cost"] - 5 * 0.0075) < 1e-9
    assert stats["median_delay_seconds"] is not None and stats["median_delay_seconds"] < 30
    table = cli("notices", "stats")
    assert "delivery rate: 100.0%" in table.stdout
    assert "email: 0 opted out, 1 invalid address(es)" in table.stdout


def test_run_summary_counts_failures_apart_from_sends(
    engine: Engine, make_settings: Any, add_customers: Any, cli: Any, twilio: Any,
    twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(5))
    start = datetime.now(UTC) + timedelta(days=6)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=4),
                          members=h.customer_ids(engine))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, datetime.now(UTC)))
    twilio.fail("+84900000001", 400, 21211)  # invalid number: never retried
    twilio.fail("+84900000002", 400, 21211)
    twilio.fail("+84900000003", 503, 0)  # tried again in an hour
    result = cli("run", "--once", **{**twilio_env, "OUTAGES_RETRY_BASE_DELAY": "1h"})
    assert result.exit_code == 0, result.stderr
    assert "notices: 2 sent, 2 failed, 1 to retry" in result.stderr


def test_list_shows_what_goes_out_next_first_then_what_went_latest_first(
    engine: Engine, cli: Any,
) -> None:
    now = datetime.now(UTC)
    rows = [("sent", now - timedelta(days=1)), ("pending", now + timedelta(hours=2)),
            ("failed", now - timedelta(days=3)), ("pending", now + timedelta(hours=1)),
            ("sent", now - timedelta(hours=1)), ("skipped", now - timedelta(hours=5))]
    with engine.begin() as conn:
        conn.execute(insert(outbox), [
            {"key": f"k{i}", "kind": "announcement", "channel": "sms",
             "recipient": f"+8490000000{i}", "language": "vi", "status": status, "due_at": due}
            for i, (status, due) in enumerate(rows)])
    listed = json.loads(cli("notices", "list", "--limit", "4", "--json").stdout)
    assert [r["recipient"][-1] for r in listed] == ["3", "1", "4", "5"]


def test_a_reminder_is_previewed_as_worded_when_it_goes(
    engine: Engine, settings: Settings, add_customers: Any, cli: Any,
) -> None:
    """Six days ahead, the reminder a day before the start says "tomorrow" as queued; the
    preview shows that text, not one worded six days early."""
    outage = _cut(engine, settings, add_customers)
    with engine.connect() as conn:
        queued = conn.execute(select(outbox.c.body).where(
            outbox.c.kind == "reminder", outbox.c.channel == "sms", outbox.c.language == "vi")
            .order_by(outbox.c.due_at, outbox.c.id).limit(1)).scalar_one()
    result = cli("notices", "preview", "--cut", str(outage), "--kind", "reminder", "--json")
    assert result.exit_code == 0, result.stderr
    [sms] = [m for m in json.loads(result.stdout)["messages"]
             if (m["channel"], m["language"]) == ("sms", "vi")]
    assert sms["body"] == queued
