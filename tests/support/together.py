"""Run one action from several threads released at the same moment, as requests arriving
together would (a race a lock must close)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(count: int, action: Callable[[int], None], *, timeout: float = 60) -> None:
    """Call action(0) .. action(count - 1), each in its own thread, all started together;
    re-raise the first failure of any of them."""
    start = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            action(n)
        except BaseException as exc:  # a failure in a thread must fail the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if failures:
        raise failures[0]
