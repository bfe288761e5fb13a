"""'Still no power' replies over HTTP: SMS keywords through the signed Twilio webhook, the
API, the desk's alert list, and the public page's button."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from outages.models import FaultReport, Interruption
from outages.timeutil import utcnow
from tests.api.conftest import add_outage

PHONE_ONE = "+84912345003"  # PD0003 only (English)
PHONE_TWO = "+84912345001"  # PD0001 and PD0005


def _restored(engine, people, *codes: str, ago: timedelta = timedelta(hours=1),
              kind: str = "fault") -> int:
    """An outage restored for `codes` `ago` (its interruptions ended then)."""
    start = utcnow() - ago - timedelta(hours=1)
    return add_outage(engine, customers=[people[c] for c in codes], kind=kind,
                      status="restored" if kind == "fault" else "completed", start=start,
                      restored=[people[c] for c in codes])


def _reply(response) -> str:
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    return root[0].text or ""


def _end(engine, outage_id: int, customer_id: int):
    with engine.connect() as conn:
        return conn.execute(select(Interruption.end_at).where(
            Interruption.outage_id == outage_id,
            Interruption.customer_id == customer_id)).scalar_one()


@pytest.mark.parametrize("body", ["VANMAT", "vẫn mất điện", "Van mat!", "CONMAT", "còn mất",
                                  "off", "OFF.", "still out", "Still Out?"])
def test_keywords_reopen_a_customer_restored_within_the_window(twilio_post, engine, people,
                                                               client, headers, body) -> None:
    outage = _restored(engine, people, "PD0003", "PD0004")
    reply = _reply(twilio_post("/twilio/inbound", {"From": PHONE_ONE, "Body": body}))
    assert "power is still off for account PD0003" in reply
    assert _end(engine, outage, people["PD0003"]) is None
    assert _end(engine, outage, people["PD0004"]) is not None
    shown = client.get(f"/faults/{outage}", headers=headers["viewer"]).json()
    assert shown["status"] == "confirmed" and shown["still_out_after_restoration"] == 1
    assert [(r["customer"], r["via"]) for r in shown["reopened"]] == [("PD0003", "sms")]
    [alert] = client.get("/alerts", headers=headers["viewer"]).json()
    assert (alert["outage_id"], alert["still_out"], alert["open"]) == (outage, 1, True)


def test_a_number_with_two_recently_restored_accounts_is_asked_which(
        twilio_post, engine, people) -> None:
    outage = _restored(engine, people, "PD0001", "PD0005")
    ask = _reply(twilio_post("/twilio/inbound", {"From": PHONE_TWO, "Body": "VANMAT"}))
    assert "VANMAT <ma KH>" in ask and "PD0001, PD0005" in ask
    assert _end(engine, outage, people["PD0001"]) is not None
    done = _reply(twilio_post("/twilio/inbound", {"From": PHONE_TWO,
                                                  "Body": "van mat dien pd0005"}))
    assert "KH PD0005 van mat dien" in done
    assert _end(engine, outage, people["PD0005"]) is None
    assert _end(engine, outage, people["PD0001"]) is not None


def test_a_reply_outside_the_window_files_a_fault_report(twilio_post, engine,
                                                         people) -> None:
    outage = _restored(engine, people, "PD0003", ago=timedelta(hours=13))
    reply = _reply(twilio_post("/twilio/inbound", {"From": PHONE_ONE, "Body": "OFF"}))
    assert "We received your report of no power for account PD0003" in reply
    assert _end(engine, outage, people["PD0003"]) is not None
    with engine.connect() as conn:
        reports = conn.execute(select(FaultReport.customer_id, FaultReport.source)).all()
    assert reports == [(people["PD0003"], "sms")]


def test_api_still_out_reopens_or_reports(client, engine, people, headers) -> None:
    outage = _restored(engine, people, "PD0002", kind="planned")
    refused = client.post("/faults/still-out", json={"customer": "PD0002"},
                          headers=headers["viewer"])
    assert refused.status_code == 403
    done = client.post("/faults/still-out", json={"customer": "PD0002"},
                       headers=headers["dispatcher"])
    assert done.status_code == 200, done.text
    assert (done.json()["reopened"], done.json()["outage_id"]) == (True, outage)
    cut = client.get(f"/cuts/{outage}", headers=headers["viewer"]).json()
    assert cut["status"] == "in_progress"
    filed = client.post("/faults/still-out", json={"customer": "PD0004"},
                        headers=headers["dispatcher"]).json()
    assert filed["reopened"] is False and filed["report_id"] is not None
    unknown = client.post("/faults/still-out", json={"customer": "NOPE"},
                          headers=headers["dispatcher"])
    assert unknown.status_code == 404 and unknown.json()["field"] == "customer"
    assert len(client.get("/alerts?all=true", headers=headers["viewer"]).json()) == 1


def test_public_button_answers_every_code_alike_and_reveals_nothing(
        make_client, engine, people) -> None:
    client = make_client(OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE="4")
    outage = _restored(engine, people, "PD0001")
    page = client.get("/?lang=en")
    assert 'action="still-out"' in page.text and "I still have no power" in page.text
    answers = []
    for code in ("PD0001", "NOPE-0001", "PD0004"):  # restored, unknown, not restored
        response = client.post("/still-out", data={"customer": code, "lang": "en"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        answers.append(response.text)
    assert answers[0] == answers[1] == answers[2]
    assert "Thank you. If power was restored" in answers[0]
    for personal in ("Nguyễn", "Pho Hue", "+8491", "example.vn", "PD000"):
        assert personal not in answers[0]
    assert _end(engine, outage, people["PD0001"]) is None  # restored: reopened
    with engine.connect() as conn:  # the button files no reports for anyone
        assert conn.execute(select(FaultReport.id)).all() == []
    limited = client.post("/still-out", data={"customer": "PD0002"})
    assert limited.status_code == 429
