"""End to end, with real processes: a customer told "restored" by SMS replies VANMAT through
the signed Twilio webhook of `outages serve`; `outages run` sends the desk's alert to a
loopback webhook receiver (which checks the signature) and to the SMTP server, and the CLI
and the API show the customer reopened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import Engine, select
from twilio.request_validator import RequestValidator

from notifier.store import outbox
from outages.timeutil import utcnow
from tests.notices.conftest import DESK_SECRET
from tests.support.server import running_server
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer
from tests.support.webhook_server import WebhookReceiver

OUTAGES = str(Path(sys.executable).parent / "outages")
DESK = "dispatch@utility.test"
PHONE = "+84901234567"
pytestmark = [pytest.mark.real_clock, pytest.mark.slow]


def _wait(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _outbox(engine: Engine, kind: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.channel, outbox.c.status, outbox.c.attempts)
                                 .where(outbox.c.kind == kind)).all())


def test_vanmat_reopens_the_customer_and_alerts_the_desk(
        engine: Engine, cli: Any, test_env: dict[str, str], twilio: TwilioServer,
        twilio_env: dict[str, str], smtp: SmtpServer, receiver: WebhookReceiver,
        tmp_path: Path) -> None:
    env = {**test_env, **twilio_env,
           "OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(smtp.port),
           "OUTAGES_SMTP_FROM": "notices@utility.test", "OUTAGES_SMTP_STARTTLS": "false",
           "OUTAGES_ALERTS_EMAIL": DESK, "OUTAGES_ALERTS_WEBHOOK_URL": receiver.url,
           "OUTAGES_ALERTS_WEBHOOK_SECRET": DESK_SECRET, "OUTAGES_WORKER_POLL_INTERVAL": "1s"}
    registry = tmp_path / "customers.csv"
    registry.write_text("code,phone,lon,lat,language\n"
                        f"HN-0001,{PHONE},105.80,21.00,vi\nHN-0002,,105.801,21.00,vi\n")
    assert cli("customers", "import", str(registry), **env).exit_code == 0
    fault = json.loads(cli("faults", "report", "--customer", "HN-0001", "--json",
                           **env).stdout)["outage_id"]
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [105.79, 20.99], [105.81, 20.99], [105.81, 21.01], [105.79, 21.01], [105.79, 20.99]]]}))
    started = (utcnow() - timedelta(hours=3)).isoformat()
    assert cli("faults", "confirm", str(fault), "--area", str(area), "--started-at", started,
               **env).exit_code == 0
    assert cli("faults", "restore", str(fault), **env).exit_code == 0
    receiver.answers.append(503)  # the desk's system is busy at first: retried

    worker = subprocess.Popen([OUTAGES, "run"], env={**os.environ, **env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait(lambda: any("cap dien tro lai" in b.lower()
                                 for b in twilio.bodies_to(PHONE))), "no 'restored' SMS"
        with running_server(env) as base:
            params = {"From": PHONE, "Body": "Vẫn mất điện", "MessageSid": "SMvanmat1",
                      "To": "+15005550006"}
            signature = RequestValidator(env["OUTAGES_TWILIO_AUTH_TOKEN"]).compute_signature(
                f"{base}/twilio/inbound", params)
            answer = httpx.post(f"{base}/twilio/inbound", content=urlencode(params), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature})
            assert answer.status_code == 200, answer.text
            reply = ElementTree.fromstring(answer.text)[0].text or ""
            assert "KH HN-0001 van mat dien" in reply

            assert receiver.wait_for(1, timeout=60), "no alert reached the webhook"
            assert _wait(lambda: any(m["To"] == DESK for m in smtp.messages)), "no email"

            shown = json.loads(cli("faults", "show", str(fault), "--json", **env).stdout)
            with httpx.Client(base_url=base) as client:
                token = _token(cli, env)
                api = client.get(f"/faults/{fault}",
                                 headers={"Authorization": f"Bearer {token}"}).json()
                alerts = client.get("/alerts", headers={"Authorization": f"Bearer {token}"})
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err.decode()

    [alert] = receiver.accepted
    assert alert.signature_ok
    assert alert.payload["event"] == "partial_restoration"
    assert (alert.payload["alert"]["outage_id"], alert.payload["alert"]["still_out"]) == (fault, 1)
    # The refused first attempt and the retry carry the same delivery key; one got through.
    assert [a.delivery for a in receiver.attempts] == [alert.delivery] * 2
    assert sorted(_outbox(engine, "partial_restoration")) == [
        ("email", "sent", 1), ("webhook", "sent", 2)]
    [mail] = [m for m in smtp.messages if m["To"] == DESK]
    assert str(mail["Subject"]) == f"1 khách hàng vẫn mất điện sau khi báo có điện: sự cố {fault}"
    assert "HN-0001" not in mail.get_body(("plain",)).get_content()  # nobody named by mail

    for view in (shown, api):
        assert view["status"] == "confirmed" and view["still_out_after_restoration"] == 1
        [reopened] = view["reopened"]
        assert (reopened["customer"], reopened["via"], reopened["still_out"]) == (
            "HN-0001", "sms", True)
        assert reopened["replied_at"] and reopened["restored_at"]
    assert [a["outage_id"] for a in alerts.json()] == [fault]


def _token(cli: Any, env: dict[str, str]) -> str:
    cli("users", "add", "desk", "--role", "viewer", "--by", "setup", **env)
    printed = cli("tokens", "create", "desk", **env).stdout
    return next(word for word in printed.split() if len(word) > 30)
