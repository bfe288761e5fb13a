"""`outages run`: the dispatcher driven by an in-memory APScheduler alarm clock.

The outbox is the truth; the scheduler only wakes the dispatcher at the next due time found
there, plus a poll as a safety net for rows queued by other processes. Its job store is in
memory on purpose: a persistent store must not be shared between workers and drops one-shot
jobs that fell due while it was down; the start-up sweep covers that instead.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from notifier import outbox
from notifier.dispatcher import Dispatcher
from notifier.reconnect import DatabaseUnavailable
from outages.notices import delivery
from outages.settings import Settings
from outages.timeutil import utcnow

log = logging.getLogger("outages.notices.worker")
# How often a running worker looks for claims that dead workers left in flight.
RECOVER_EVERY = timedelta(minutes=1)


class Worker:
    def __init__(self, engine: Engine, settings: Settings,
                 dispatcher: Dispatcher | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.dispatcher = dispatcher or delivery.dispatcher(engine, settings)
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.recovered_at: datetime | None = None

    def sweep(self) -> int:
        """Start-up: release rows a dead worker left in 'sending', then send what is due."""
        with self.lock:
            self._recover()
        return self.tick()

    def tick(self) -> int:
        """Send what is due; first, every RECOVER_EVERY, release what dead workers left in
        flight (a worker on another host is judged dead only once its lease ran out, long
        after this one started)."""
        with self.lock:  # the alarm and the poll never drain at the same time
            if self.recovered_at is None or utcnow() - self.recovered_at >= RECOVER_EVERY:
                self._recover()
            return self.dispatcher.drain()

    def _recover(self) -> None:
        released = self.dispatcher.recover(delivery.is_dead)
        self.recovered_at = utcnow()
        if released:
            log.info("released %d notices left in flight by a stopped worker", released)

    def active(self) -> int:
        return self.dispatcher.reconnect.run(self._active)

    def _active(self) -> int:
        with self.engine.connect() as conn:
            return outbox.count_active(conn)

    def run_until_idle(self, *, timeout: float | None = None) -> int:
        """Send until nothing is pending or in flight (waiting for future due times)."""
        handled = self.sweep()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.stop_event.is_set() and self.active():
            if deadline is not None and time.monotonic() > deadline:
                break
            self.stop_event.wait(self._sleep_for())
            handled += self.tick()
        return handled

    def _sleep_for(self) -> float:
        due = self.dispatcher.next_due()
        poll = self.settings.worker.poll_interval.total_seconds()
        if due is None:
            return poll
        return max(0.0, min(poll, (due - utcnow()).total_seconds()))

    def run_forever(self) -> None:
        poll = self.settings.worker.poll_interval.total_seconds()
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        scheduler.add_job(self._wake, "interval", id="poll", seconds=poll)
        self.scheduler = scheduler
        self.sweep()
        scheduler.start()
        self._set_alarm(scheduler)
        while not self.stop_event.wait(poll):  # a monotonic wait, whatever the clock does
            self._keep_time(scheduler, poll)
        log.info("stopping: finishing notices in flight")
        scheduler.shutdown(wait=True)
        if self.dispatcher.held:
            raise DatabaseUnavailable("stopped while the database was unreachable")

    def _keep_time(self, scheduler: BackgroundScheduler, poll: float) -> None:
        """APScheduler counts in wall-clock time: once the clock is set back (an NTP step, a
        virtual machine resumed) its next poll lies that much further ahead, and notices
        queued meanwhile would wait for it. The poll starts again from now."""
        job = scheduler.get_job("poll")
        if job is None or job.next_run_time is None:
            return
        if job.next_run_time - utcnow() > timedelta(seconds=2 * poll + 1):
            log.warning("the clock went back: the worker's poll starts again from now")
            scheduler.reschedule_job("poll", trigger="interval", seconds=poll)
            self._set_alarm(scheduler)

    def _wake(self) -> None:
        try:
            self.tick()
            self._set_alarm(self.scheduler)
        except DatabaseUnavailable:  # stopping during an outage: the main thread says so
            return

    def _set_alarm(self, scheduler: BackgroundScheduler) -> None:
        due = self.dispatcher.next_due()
        if due is None or self.stop_event.is_set():
            return
        run_at = max(due, utcnow() + timedelta(milliseconds=10))
        scheduler.add_job(self._wake, "date", run_date=run_at, id="alarm",
                          replace_existing=True)

    def stop(self, *_args: object) -> None:
        self.dispatcher.stopping = True
        self.stop_event.set()

    def install_signals(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def close(self) -> None:
        self.dispatcher.close()


