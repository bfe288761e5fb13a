"""Riding out a database restart or failover: every pooled connection breaks at once and
new ones are refused for a while. The dispatcher waits with backoff and carries on, logging
the outage once rather than a traceback per attempt."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("notifier.dispatcher")
T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database was still unreachable when the dispatcher was told to stop."""


def is_outage(exc: BaseException) -> bool:
    """A lost or refused connection, as opposed to a bug or a constraint violation."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


class Reconnect:
    def __init__(self, stop: threading.Event, *, first_delay: float = 0.5,
                 max_delay: float = 30.0) -> None:
        self.stop = stop
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.down_since: float | None = None
        self.lock = threading.Lock()

    def run(self, step: Callable[[], T]) -> T:
        """`step()`, tried again with backoff while the database is unreachable."""
        delay = self.first_delay
        while True:
            try:
                result = step()
            except DBAPIError as exc:
                if not is_outage(exc):
                    raise
                self.went_down(exc)
                if self.stop.wait(delay):
                    raise DatabaseUnavailable("stopped while the database was unreachable"
                                              ) from exc
                delay = min(2 * delay, self.max_delay)
                continue
            self.came_back()
            return result

    def went_down(self, exc: DBAPIError) -> None:
        with self.lock:
            if self.down_since is None:
                self.down_since = time.monotonic()
                reason = str(exc.orig or exc).strip().splitlines()[0]
                log.warning("database unreachable (%s); waiting for it, retrying with backoff",
                            reason)

    def came_back(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            if self.down_since is not None:
                log.warning("database reachable again after %.1f s; carrying on",
                            time.monotonic() - self.down_since)
                self.down_since = None
