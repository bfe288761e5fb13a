"""A real `outages run --metrics-port` process scraped over loopback while it sends to the
Twilio stand-in, and its JSON log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_workers import OUTAGES, _queue_fault_acks, _status
from tests.support.metrics import scrape, value
from tests.support.server import free_port
from tests.support.twilio_server import TwilioServer

pytestmark = pytest.mark.real_clock  # the worker is another process

COUNT = 30
REFUSED = [h.customers(1, start=i)[0]["phone"] for i in (3, 11)]  # 21211: invalid number
BUSY = h.customers(1, start=20)[0]["phone"]  # 30001 once: queue overflow, sent on retry


def _sent_counts_settle(url: str, twilio: TwilioServer, timeout: float = 60) -> str:
    """The scrape once the worker has counted every send the stand-in took and both refusals."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = scrape(url)
        if (twilio.count == COUNT - len(REFUSED)
                and value(text, "notifier_sends_total", outcome="sent") == twilio.count
                and value(text, "notifier_sends_total", outcome="failed") == len(REFUSED)):
            return text
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish: {twilio.count} sent;\n{text}")


def test_worker_metrics_count_what_it_sent_and_its_json_log_masks_phone_numbers(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], test_env: dict[str, str],
    tmp_path: Path,
) -> None:
    settings = make_settings(**twilio_env)
    for phone in REFUSED:
        twilio.fail(phone, 400, 21211)
    twilio.fail(BUSY, 429, 30001)
    port = free_port()
    log_path = tmp_path / "worker.log"
    env = {**os.environ, **test_env, **twilio_env, "OUTAGES_LOG_FORMAT": "json",
           "OUTAGES_WORKER_POLL_INTERVAL": "1s"}
    with log_path.open("wb") as log:
        worker = subprocess.Popen([OUTAGES, "run", "-v", "--metrics-port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        _wait_for(url, worker)
        _queue_fault_acks(engine, settings, add_customers, COUNT)
        text = _sent_counts_settle(url, twilio)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert worker.returncode == 0, log_path.read_text()

    sent = twilio.count
    assert value(text, "notifier_sends_total", channel="sms", outcome="sent", code="") == sent
    assert value(text, "notifier_sends_total", outcome="failed", code="21211") == 2
    assert value(text, "notifier_sends_total", outcome="retry", code="30001") == 1
    # Every call to the provider was timed, the refused and retried ones too.
    assert value(text, "notifier_send_seconds_count", channel="sms") == sent + 3
    assert value(text, "notifier_scheduler_lag_seconds_count") == sent + 3
    # What the database says, read at the scrape.
    assert _status(engine) == {"sent": sent, "failed": 2}
    assert value(text, "notifier_outbox_rows", status="pending", channel="sms") == 0
    assert value(text, "notifier_outbox_rows", status="sending", channel="sms") == 0
    assert value(text, "notifier_outbox_oldest_due_seconds") == 0
    assert value(text, "outages_active", kind="fault", status="confirmed") == 1

    lines = [json.loads(line) for line in log_path.read_text().splitlines()
             if line.startswith("{")]
    sends = [line for line in lines if "provider_message_id" in line]
    assert len(sends) == sent
    assert all(isinstance(line["notice_id"], int) and line["outage_id"] for line in sends)
    assert {line["provider_message_id"] for line in sends} == {
        m["Sid"] for m in twilio.messages}
    # A random message SID may spell 21211 too: refusals are the lines without one.
    refusals = [line for line in lines
                if "21211" in line["message"] and "provider_message_id" not in line]
    assert len(refusals) == 2 and all(line["notice_id"] for line in refusals)
    assert all(line["level"] == "warning" for line in refusals)
    # The provider's message named the number; the log shows it masked.
    text_of_log = log_path.read_text()
    every_phone = {c["phone"] for c in h.customers(COUNT)}
    assert not [phone for phone in every_phone if phone in text_of_log]
    assert REFUSED[0][:5] + "*****" + REFUSED[0][-2:] in text_of_log


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"outages run exited with {process.returncode}")
        try:
            scrape(url)
            return
        except Exception:  # not listening yet
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on {url}")


def test_a_metrics_port_in_use_is_refused_before_anything_is_sent(test_env) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([OUTAGES, "run", "--once", "--metrics-port", str(port)],
                              env={**os.environ, **test_env}, capture_output=True, timeout=60)
    assert done.returncode == 78, done.stderr
    assert f"--metrics-port: cannot serve metrics on 127.0.0.1:{port}" in done.stderr.decode()
