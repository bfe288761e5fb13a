"""`outages run`'s clock (Worker.run_forever): an idle worker sends a notice when it falls
due, and goes on polling when the system clock is set back."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import insert

from notifier.channels.base import Receipt
from notifier.dispatcher import Dispatcher
from notifier.store import outbox
from outages.notices.worker import Worker

pytestmark = pytest.mark.real_clock


class Recorder:
    def __init__(self) -> None:
        self.sent: dict[int, datetime] = {}

    def send(self, message) -> Receipt:
        self.sent[message.id] = datetime.now(UTC)
        return Receipt(provider_id=f"p{message.id}")

    def close(self) -> None:
        pass


def queue(engine, key: str, due: datetime) -> int:
    """A notice written by another process (the API server)."""
    with engine.begin() as conn:
        return conn.execute(insert(outbox).values(
            key=key, kind="fault_ack", channel="sms", recipient="+84900000001",
            language="vi", urgent=True, due_at=due, body="x").returning(outbox.c.id)
        ).scalar_one()


def start(engine, make_settings, **env):
    settings = make_settings(**env)
    recorder = Recorder()
    dispatcher = Dispatcher(engine, {"sms": recorder}, concurrency=2)
    worker = Worker(engine, settings, dispatcher)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    return worker, thread, recorder


def stop(worker, thread) -> None:
    worker.stop()
    thread.join(10)
    worker.close()


def wait_sent(recorder, notice_id: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if notice_id in recorder.sent:
            return True
        time.sleep(0.05)
    return notice_id in recorder.sent


def test_a_notice_due_in_a_few_seconds_goes_on_time_while_idle(engine, make_settings) -> None:
    due = datetime.now(UTC) + timedelta(seconds=2)
    notice = queue(engine, "k1", due)
    worker, thread, recorder = start(engine, make_settings, OUTAGES_WORKER_POLL_INTERVAL="1h")
    try:
        assert wait_sent(recorder, notice, 6)
        assert recorder.sent[notice] - due < timedelta(seconds=1)
    finally:
        stop(worker, thread)


def test_a_backward_clock_step_does_not_stall_the_worker(engine, make_settings) -> None:
    """NTP steps the clock back an hour (a VM resumed, a wrong RTC corrected): the outbox is
    the truth, so a notice queued by the API afterwards, due now, still goes within the
    poll interval."""
    worker, thread, recorder = start(engine, make_settings, OUTAGES_WORKER_POLL_INTERVAL="1s")
    try:
        time.sleep(1.5)  # running, idle, polling every second
        with time_machine.travel(datetime.now(UTC) - timedelta(hours=1), tick=True):
            time.sleep(1.5)  # the scheduler notices the new time at its next poll
            notice = queue(engine, "k2", datetime.now(UTC))
            sent = wait_sent(recorder, notice, 10)
        assert sent, "a notice due now was not sent within 10 s (poll interval 1 s)"
    finally:
        stop(worker, thread)
