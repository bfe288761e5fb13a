"""Service KPIs from outages, fault reports and the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from notifier.store import outbox
from outages.models import FaultReport, Outage, Revision

START = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)


def cut(engine, *, created: datetime, start: datetime, status: str = "completed",
        external_id: str | None = None) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(Outage.__table__).values(
            kind="planned", status=status, planned_start=start, created_at=created,
            external_id=external_id, area_name="Ba Dinh")).inserted_primary_key[0])


def notice(engine, outage_id: int, *, kind: str, channel: str = "sms", status: str = "sent",
           sent_at: datetime | None = None, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(outbox).values(
            key=key, outage_id=outage_id, kind=kind, channel=channel, recipient="+84900000000",
            language="vi", due_at=sent_at or START, status=status, sent_at=sent_at))


def fault(engine, *, reported: datetime, restored: datetime | None,
          etr: datetime | None) -> int:
    with engine.begin() as conn:
        outage_id = int(conn.execute(insert(Outage.__table__).values(
            kind="fault", status="restored", actual_end=restored, etr=etr)
        ).inserted_primary_key[0])
        conn.execute(insert(FaultReport.__table__).values(
            outage_id=outage_id, phone="+84900000001", source="sms", first_at=reported,
            last_at=reported))
        return outage_id


def test_planned_notice_share_uses_first_notice_else_creation(engine, cli) -> None:
    on_time = cut(engine, created=START - timedelta(days=10), start=START, external_id="A")
    notice(engine, on_time, kind="cut_announced", sent_at=START - timedelta(days=6), key="a")
    sent_late = cut(engine, created=START - timedelta(days=10), start=START, external_id="B")
    notice(engine, sent_late, kind="cut_announced", sent_at=START - timedelta(days=4), key="b")
    urgent = cut(engine, created=START - timedelta(days=2), start=START, external_id="C")
    with engine.begin() as conn:  # no notice sent; a dispatcher's urgent override instead
        conn.execute(update(Outage.__table__).where(Outage.__table__.c.id == urgent)
                     .values(urgent=True, urgent_reason="transformer overheating"))
    cut(engine, created=START - timedelta(days=1), start=START, status="cancelled")
    cut(engine, created=START, start=START + timedelta(days=400))  # outside the window
    result = cli("report", "service", "--from", "2025-01-01", "--to", "2025-12-31",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)["planned_notice"]
    assert (got["cuts"], got["on_time"]) == (3, 1)
    assert got["share_on_time"] == pytest.approx(1 / 3)
    assert got["lead_source"] == {"outbox": 2, "created_at": 1}
    assert [(c["external_id"], c["lead_source"], c["lead_hours"]) for c in got["late"]] == [
        ("B", "outbox", 96.0), ("C", "created_at", 48.0)]
    assert [(c["urgent"], c["urgent_reason"]) for c in got["late"]] == [
        (False, None), (True, "transformer overheating")]
    table = cli("report", "service", "--from", "2025-01-01", "--to", "2025-12-31").stdout
    assert "transformer overheating" in table


def test_fault_response_times_etr_accuracy_and_delivery(engine, cli) -> None:
    minute = timedelta(minutes=1)
    for i, (ack, restore, etr_error) in enumerate(((5, 60, 10), (15, 120, 45), (25, 180, -20))):
        outage_id = fault(engine, reported=START, restored=START + restore * minute,
                          etr=START + (restore - etr_error) * minute)
        notice(engine, outage_id, kind="fault_ack", status="delivered",
               sent_at=START + ack * minute, key=f"ack{i}")
    notice(engine, None, kind="cut_announced", channel="email", status="failed", key="e1")
    notice(engine, None, kind="cut_announced", channel="email", status="sent",
           sent_at=START, key="e2")
    result = cli("report", "service", "--format", "json")
    kpis = json.loads(result.stdout)
    response = kpis["fault_response"]
    assert response["incidents"] == 3
    assert response["to_acknowledgement"]["median_minutes"] == pytest.approx(15)
    assert response["to_acknowledgement"]["p90_minutes"] == pytest.approx(23)
    assert response["to_restoration"]["median_minutes"] == pytest.approx(120)
    accuracy = {k: v for k, v in kpis["etr_accuracy"].items() if k != "by_lead"}
    assert accuracy == {"incidents": 3, "within_30_min": 2, "share": pytest.approx(2 / 3)}
    channels = {c["channel"]: c for c in kpis["delivery"]}
    assert channels["sms"]["delivered_rate"] == 1.0
    assert channels["email"]["delivered_rate"] == 0.0
    assert channels["email"]["accepted_rate"] == 0.5
    table = cli("report", "service")
    assert "fault_ack" not in table.stdout and "median 15.0 min" in table.stdout


def test_service_report_without_data_says_so(cli) -> None:
    result = cli("report", "service")
    assert result.exit_code == 0
    assert result.stdout.count("no data") >= 3


def test_service_report_refuses_reversed_dates(cli) -> None:
    refused = cli("report", "service", "--from", "2025-02-01", "--to", "2025-01-01")
    assert refused.exit_code == 2
    assert "--from: " in refused.stderr
    assert "2025-02-01 is after the last day 2025-01-01" in refused.stderr


def test_etr_accuracy_by_how_long_before_the_restoration_each_etr_was_given(engine, cli) -> None:
    minute = timedelta(minutes=1)
    # (restored, [(given, etr)]) in minutes after START
    incidents = [(300, [(0, 120), (150, 280), (270, 310)]), (100, [(10, 40)])]
    for restored, given in incidents:
        outage_id = fault(engine, reported=START, restored=START + restored * minute,
                          etr=START + given[-1][1] * minute)
        with engine.begin() as conn:
            conn.execute(insert(Revision.__table__), [
                {"outage_id": outage_id, "revision": n + 2, "action": "etr",
                 "at": START + at * minute, "etr": START + etr * minute}
                for n, (at, etr) in enumerate(given)])
    kpis = json.loads(cli("report", "service", "--format", "json").stdout)
    bands = {b["lead"]: b for b in kpis["etr_accuracy"]["by_lead"]}
    assert bands["under 1h"] == {"lead": "under 1h", "etrs": 1, "within_30_min": 1,
                                 "share": 1.0, "median_error_minutes": -10.0}
    assert (bands["1h to 3h"]["etrs"], bands["1h to 3h"]["within_30_min"]) == (2, 1)
    assert bands["1h to 3h"]["median_error_minutes"] == pytest.approx(40)
    assert (bands["3h or more"]["etrs"], bands["3h or more"]["share"]) == (1, 0.0)
    table = cli("report", "service").stdout
    assert "1h to 3h: 50.0% within 30 min (1 of 2), median error +40.0 min" in table
