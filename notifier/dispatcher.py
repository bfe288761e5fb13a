"""Claims due outbox rows, sends them with bounded concurrency, records each outcome.

The database is the truth: a row is claimed (status 'sending') before it is sent and updated
after. Results are written in small groups as they complete, so a crash leaves only the rows
actually in flight in 'sending' (released and retried at the next start). While the database
is unreachable (a restart, a failover) sends in flight finish, their outcomes are held in
memory, and everything resumes once it answers again.
"""

from __future__ import annotations

import itertools
import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError

from notifier import outbox
from notifier.channels.base import MAYBE_SENT, Channel, DeliveryError, Lookup, Message, Receipt
from notifier.enums import BARS_ADDRESS, OutboxStatus
from notifier.metrics import SCHEDULER_LAG, send_seconds, sends
from notifier.quiet import QuietHours
from notifier.ratelimit import TokenBucket
from notifier.reconnect import Reconnect, is_outage
from notifier.supersede import SupersedePolicy

log = logging.getLogger("notifier.dispatcher")
SENT, FAILED, SKIPPED = OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED
FLUSH_EVERY = 64  # results recorded together
# The next batch is claimed when no more than this many rows per sending thread wait.
CLAIM_AHEAD = 2
# The error code of a claimed row the domain could not make ready (Recheck.not_ready).
NOT_READY = "not_ready"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    max_age: timedelta = timedelta(hours=6)
    base_delay: timedelta = timedelta(seconds=15)
    # A non-urgent notice held through quiet hours is as young as any when they end.
    quiet: QuietHours | None = None

    def next_try(self, row: Row[Any], now: datetime) -> datetime | None:
        """When to try a transiently failed row again, or None to give up: after
        `max_attempts`, or `max_age` after it first fell due (a reminder queued days ahead
        is as young as any notice when it goes out), or after quiet hours last ended."""
        first_due = row.first_due_at or row.due_at
        if self.quiet is not None and not row.urgent:
            first_due = max(first_due, self.quiet.last_end(now))
        if row.attempts >= self.max_attempts or now - first_due >= self.max_age:
            return None
        # Exponential backoff with jitter, so a provider outage does not end in a stampede.
        delay = self.base_delay * (2 ** (row.attempts - 1)) * random.uniform(0.5, 1.5)
        return now + delay


@dataclass(frozen=True)
class Recheck:
    """The domain's word on claimed rows just before they are sent: rows it may no longer
    send (id -> reason), rows to send differently (id -> new recipient, language, text), and
    rows it could not make ready now (id -> error: their new text would not render), tried
    again later like a send that failed for a while."""

    skip: Mapping[int, str] = field(default_factory=dict)
    changes: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    not_ready: Mapping[int, str] = field(default_factory=dict)


class Hooks(Protocol):
    """What the domain decides at send time (who may still receive a notice, where, in what
    language) and does about permanent failures (mark the contact, fall back to email)."""

    def recheck(self, conn: Connection, rows: Sequence[Row[Any]]) -> Recheck: ...

    def on_permanent(self, conn: Connection, failures: Sequence[tuple[Row[Any], DeliveryError]],
                     ) -> None: ...

    def on_sent(self, conn: Connection, provider_ids: Sequence[str]) -> None:
        """Just recorded as sent under these provider ids (in the same transaction): the
        provider may have reported on them already."""


@dataclass
class _Result:
    row: Row[Any]
    receipt: Receipt | None = None
    error: DeliveryError | None = None
    skipped: str | None = None  # why it was not handed to the provider
    unsent: bool = False  # taken back when stopping: neither sent nor skipped
    # Skipped because the provider refused its address for good in this batch: that
    # refusal, for the domain to act on as on the row's own (a fallback to another channel).
    refused: DeliveryError | None = None


@dataclass
class _Outcomes:
    """Finished sends as outbox updates, and the permanent failures among them."""

    outcomes: list[dict[str, Any]]
    permanent: list[tuple[Row[Any], DeliveryError]]


class Dispatcher:
    def __init__(self, engine: Engine, transports: Mapping[str, Channel], *,
                 rates: Mapping[str, float] | None = None, concurrency: int = 16,
                 batch: int = 500, retry: RetryPolicy | None = None, hooks: Hooks | None = None,
                 supersede: SupersedePolicy | None = None, worker: str | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 unsubscribe: Callable[[Row[Any]], str | None] | None = None,
                 quiet: QuietHours | None = None) -> None:
        self.engine = engine
        self.transports = dict(transports)
        self.buckets = {name: TokenBucket(rate) for name, rate in (rates or {}).items()}
        self.concurrency = concurrency
        self.batch = batch
        self.retry = retry or RetryPolicy(quiet=quiet)
        self.quiet = quiet
        self.hooks = hooks
        self.supersede = supersede
        self.worker = worker or outbox.worker_id()
        self.clock = clock
        # The domain's one-click opt-out URL for a row (per recipient, so not in its text).
        self.unsubscribe = unsubscribe
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="lookup")
        self.claimer = ThreadPoolExecutor(1, thread_name_prefix="claim")
        # The claimed rows wait in `to_send`; sending threads take them and put each _Result
        # on `finished`. They wake the claiming thread (`woken`) only when a group of results
        # is there to record or the last result of what was handed out: a wake-up per message
        # (a future each, or a queue waited on) cost a sending worker a fifth of its CPU.
        self.to_send: queue.SimpleQueue[Row[Any] | None] = queue.SimpleQueue()
        self.finished: queue.SimpleQueue[_Result] = queue.SimpleQueue()
        self.woken = threading.Event()
        # Rows put in `to_send` and results taken from `finished` since the start: what is in
        # flight is the difference, whatever batch it came from (a batch cut short by an
        # error goes on being sent, and its results are recorded with the next).
        self.handed_out = 0
        self.taken = 0
        self.claim_wanted = False  # the claiming thread would claim ahead once few rows wait
        self.results = itertools.count(1)  # numbers the results put in `finished`
        self.senders: list[threading.Thread] = []
        self.tally = threading.Lock()  # outcomes are counted by the claiming thread too
        # Outcomes since start, by the status each row was left in: sent, failed, pending (a
        # transient failure, to try again), superseded.
        self.outcomes: Counter[str] = Counter()
        self.stop_event = threading.Event()
        self.reconnect = Reconnect(self.stop_event)
        # Outcomes of finished sends the database could not take yet.
        self.held: list[_Outcomes] = []
        # (channel, recipient) -> the refusal, for addresses the provider refused for good in
        # the batch being sent: the other notices of the batch to them are skipped.
        self.refused: dict[tuple[str, str], DeliveryError] = {}
        self.more_due = False  # the last claim took all it could: more rows may be due

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    @stopping.setter
    def stopping(self, value: bool) -> None:
        if value:
            self.stop_event.set()
        else:
            self.stop_event.clear()

    @property
    def sent(self) -> int:
        return self.outcomes[SENT]

    def summary(self) -> str:
        """'242 sent, 8 failed, 3 to retry, 1 superseded' (the kinds that happened)."""
        words = {SENT: "sent", FAILED: "failed", OutboxStatus.PENDING: "to retry",
                 OutboxStatus.SUPERSEDED: "superseded"}
        parts = [f"{self.outcomes[status]} {word}" for status, word in words.items()
                 if self.outcomes[status] or status == SENT]
        return ", ".join(parts)

    def close(self) -> None:
        for _ in self.senders:
            self.to_send.put(None)
        for sender in self.senders:
            sender.join()
        self.senders = []
        self.pool.shutdown(wait=True)
        self.claimer.shutdown(wait=True)
        for transport in {id(t): t for t in self.transports.values()}.values():
            transport.close()

    def _write(self) -> Any:
        return self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")

    def next_due(self) -> datetime | None:
        return self.reconnect.run(self._next_due)

    def _next_due(self) -> datetime | None:
        with self.engine.connect() as conn:
            return outbox.next_due(conn)

    def recover(self, is_dead: Callable[[str, datetime], bool]) -> int:
        """Resolve rows left in 'sending' by workers that `is_dead` says are gone: those the
        provider confirms it accepted are recorded as sent, the rest go back to pending."""
        return self.reconnect.run(lambda: self._recover(is_dead))

    def _recover(self, is_dead: Callable[[str, datetime], bool]) -> int:
        with self.engine.connect() as conn:
            dead = [who for who, at in outbox.stale_claimers(conn)
                    if who != self.worker and is_dead(who, at)]
            if not dead:  # the usual answer: a running worker asks every minute
                return 0
            rows = outbox.claimed_by(conn, dead)
        found = [r for r in self.pool.map(self._lookup, rows) if r is not None]
        now = self.clock()
        with self._write() as conn, conn.begin():
            outcomes = [_outcome(row, SENT, now, provider_id=receipt.provider_id)
                        for row, receipt in found]
            outbox.record(conn, outcomes)
            self._sent(conn, outcomes)
            released = outbox.release(conn, dead, now=now)
        log.info("recovered %d notices left in flight: %d confirmed by the provider, "
                 "%d to send again", len(rows), len(found), released)
        return released

    def _lookup(self, row: Row[Any]) -> tuple[Row[Any], Receipt] | None:
        if row.claimed_at is None:
            return None
        receipt = self._accepted(row, since=row.claimed_at)
        return None if receipt is None else (row, receipt)

    def _accepted(self, row: Row[Any], *, since: datetime) -> Receipt | None:
        """The provider's receipt for `row` if it accepted it since `since`; None when it did
        not, or cannot say (sending again is then the safe side)."""
        transport = self.transports.get(row.channel)
        if not isinstance(transport, Lookup):
            return None
        try:
            return transport.lookup(self._message(row), since)
        except DeliveryError as exc:
            log.warning("outbox %s: provider lookup failed (%s); sending again", row.id, exc)
            return None

    def drain(self) -> int:
        """Send everything due now; return how many rows were handled."""
        handled = 0
        while not self.stopping:
            count = self.run_once()
            # A full claim left with nothing to send (every row skipped, held or superseded)
            # has left the due rows: the ones behind it go now, not at the next poll.
            if not count and not self.more_due:
                break
            handled += count
        return handled

    def run_once(self) -> int:
        """Claim due rows and send them, claiming the next batch while the last sends of
        this one are in flight (a full claim means more may be due); how many were claimed.
        Sends still in flight from a batch an error cut short are finished and recorded."""
        rows = self.reconnect.run(self._claim)
        if rows or self.in_flight or self.held:
            return self._send_all(rows)
        return 0

    def _claim(self) -> list[Row[Any]]:
        now = self.clock()
        with self._write() as conn, conn.begin():
            limit = self._claim_size()
            rows = outbox.claim(conn, now=now, limit=limit, worker=self.worker)
            self.more_due = len(rows) >= limit
            for row in rows:
                SCHEDULER_LAG.observe(max(0.0, (now - row.due_at).total_seconds()))
            rows = self._hold_in_quiet_hours(conn, rows, now)
            rows = self._recheck(conn, rows, now)
            losers = self.supersede.losers(rows) if self.supersede else []
            if losers:
                outbox.record(conn, [_outcome(r, OutboxStatus.SUPERSEDED, now) for r in losers])
                with self.tally:
                    self.outcomes[OutboxStatus.SUPERSEDED] += len(losers)
                for row in losers:
                    sends(row.channel, "superseded", "").inc()
        loser_ids = {row.id for row in losers}
        return [row for row in rows if row.id not in loser_ids]

    def _hold_in_quiet_hours(self, conn: Connection, rows: list[Row[Any]],
                             now: datetime) -> list[Row[Any]]:
        """Put back the non-urgent rows claimed inside quiet hours, due when they end, unless
        that would be at or after the row's deadline; return the rest."""
        wake = self.quiet.hold_until(now) if self.quiet is not None else None
        if wake is None:
            return rows
        held = [row for row in rows if not row.urgent
                and (row.deadline is None or row.deadline > wake)]
        if not held:
            return rows
        outbox.hold(conn, [row.id for row in held], until=wake, worker=self.worker, now=now)
        log.info("%d claimed notices wait for the end of quiet hours at %s", len(held),
                 wake.isoformat(timespec="minutes"))
        for row in held:
            sends(row.channel, "held", "quiet_hours").inc()
        kept = {row.id for row in held}
        return [row for row in rows if row.id not in kept]

    def _recheck(self, conn: Connection, rows: list[Row[Any]], now: datetime) -> list[Row[Any]]:
        """Skip the claimed rows the domain may no longer send, rewrite those whose recipient
        or text changed since they were queued; return what is left to send."""
        if self.hooks is None or not rows:
            return rows
        verdict = self.hooks.recheck(conn, rows)
        if verdict.skip:
            log.info("skipped %d claimed notices the recipients may no longer receive",
                     len(verdict.skip))
            outbox.record(conn, [_outcome(row, SKIPPED, now, code=verdict.skip[row.id])
                                 for row in rows if row.id in verdict.skip])
            for row in rows:
                if row.id in verdict.skip:
                    sends(row.channel, "skipped", verdict.skip[row.id]).inc()
        if verdict.not_ready:
            self._not_ready(conn, [row for row in rows if row.id in verdict.not_ready],
                            verdict.not_ready, now)
        changed = ({row.id: row for row in outbox.rewrite(conn, verdict.changes, now=now)}
                   if verdict.changes else {})
        return [changed.get(row.id, row) for row in rows
                if row.id not in verdict.skip and row.id not in verdict.not_ready]

    def _not_ready(self, conn: Connection, rows: Sequence[Row[Any]], errors: Mapping[int, str],
                   now: datetime) -> None:
        """Put back rows that cannot go out as they are, to be tried again later (the retry
        policy's backoff) and given up on like a send that keeps failing: the rest of the
        batch goes on."""
        results = [_Result(row, error=DeliveryError(errors[row.id], code=NOT_READY,
                                                    permanent=False)) for row in rows]
        held = self._outcomes(results)
        outbox.record(conn, held.outcomes)
        with self.tally:
            self.outcomes.update(str(o["status"]) for o in held.outcomes)

    def _claim_size(self) -> int:
        """No more than about a minute of work at the slowest paced channel, so claims stay
        far younger than the lease after which another worker may take them over."""
        if not self.buckets:
            return self.batch
        slowest = min(bucket.rate for bucket in self.buckets.values())
        return max(1, min(self.batch, max(2 * self.concurrency, int(slowest * 60))))

    def _send_all(self, rows: Sequence[Row[Any]]) -> int:
        """Send `rows`, and the batches claimed ahead meanwhile; how many were claimed."""
        self.refused.clear()  # from here on the domain's contact flags say it
        self._start_senders()
        self._hand_out(rows)
        claimed = len(rows)
        done: list[_Result] = []
        unsent: list[_Result] = []  # taken back from the sending threads when stopping
        ahead: Future[list[Row[Any]]] | None = None  # the next batch, being claimed
        while self.in_flight or ahead:
            if ahead is not None and (ahead.done() or not self.in_flight):
                more = ahead.result()
                ahead = None
                self._hand_out(more)  # sent after what is left of this batch
                claimed += len(more)
            if ahead is None:
                self.claim_wanted = self._may_claim_ahead()
                if self.claim_wanted and self._few_waiting():
                    self.claim_wanted = False
                    ahead = self.claimer.submit(self.reconnect.run, self._claim)
                    ahead.add_done_callback(lambda _: self.woken.set())
            if not self.in_flight:
                continue  # only the claim ahead is left: taken at the top
            self.woken.wait()
            self.woken.clear()
            for result in _all_there(self.finished):
                self.taken += 1
                (unsent if result.unsent else done).append(result)
            if done and (len(done) >= FLUSH_EVERY or not self.in_flight):
                self._record_or_hold(done)
                done = []
        # Nothing more is claimed before the outcomes held are recorded.
        self.reconnect.run(self._record_held)
        if unsent:  # stopped: hand the unsent claims back
            self.reconnect.run(self._release_own)
        return claimed

    @property
    def in_flight(self) -> int:
        return self.handed_out - self.taken

    def _hand_out(self, rows: Sequence[Row[Any]]) -> None:
        self.handed_out += len(rows)  # first: a sending thread compares its count to it
        for row in rows:
            self.to_send.put(row)

    def _start_senders(self) -> None:
        while len(self.senders) < self.concurrency:
            sender = threading.Thread(target=self._sending, daemon=True,
                                      name=f"send_{len(self.senders)}")
            sender.start()
            self.senders.append(sender)

    def _sending(self) -> None:
        while (row := self.to_send.get()) is not None:
            if self.claim_wanted and self._few_waiting():
                self.woken.set()  # time to claim the next batch
            if self.stopping:  # handed back unsent, so a SIGTERM stops soon
                result = _Result(row, unsent=True)
            else:
                try:
                    result = self._send(row)
                except Exception as exc:  # a bug around the transport: the row comes back
                    log.exception("sending outbox row %s failed", row.id)
                    result = _Result(row, error=DeliveryError(repr(exc), code="internal",
                                                              permanent=False))
            self.finished.put(result)
            number = next(self.results)  # atomic: one number per result
            if number % FLUSH_EVERY == 0 or number >= self.handed_out:
                self.woken.set()

    def _may_claim_ahead(self) -> bool:
        """Whether to claim the next batch, on the claiming thread while the sends go on, once
        little of this one is left to hand out (so it is there before the sending threads run
        dry): the last claim took all it could (more may be due). Not while stopping, and
        never before outcomes held during a database outage are recorded."""
        return self.more_due and not self.stopping and not self.held

    def _few_waiting(self) -> bool:
        return self.to_send.qsize() <= CLAIM_AHEAD * self.concurrency

    def _release_own(self) -> None:
        with self._write() as conn, conn.begin():
            outbox.give_back(conn, self.worker, now=self.clock())

    def _send(self, row: Row[Any]) -> _Result:
        transport = self.transports.get(row.channel)
        if transport is None:
            error = DeliveryError(f"no transport for channel {row.channel}", code="no_channel",
                                  permanent=True)
            return _Result(row, error=error)
        refused = self.refused.get((row.channel, row.recipient))
        if refused is not None:
            return _Result(row, skipped=f"recipient_{refused.outcome}", refused=refused)
        if row.last_error_code == MAYBE_SENT:
            # The last try's answer never came: the provider may have the message already.
            # Since the row first fell due, none of its tries can be missed.
            receipt = self._accepted(row, since=row.first_due_at or row.due_at)
            if receipt is not None:
                return _Result(row, receipt=receipt)
        bucket = self.buckets.get(row.channel)
        if bucket is not None:
            bucket.acquire()
        started = time.perf_counter()
        try:
            return _Result(row, receipt=transport.send(self._message(row)))
        except DeliveryError as exc:
            if exc.permanent and exc.outcome in BARS_ADDRESS:
                self.refused[(row.channel, row.recipient)] = exc
            return _Result(row, error=exc)
        except Exception as exc:  # an unexpected bug in a transport must not kill the worker
            log.exception("transport %s failed on outbox row %s", row.channel, row.id)
            return _Result(row, error=DeliveryError(repr(exc), code="internal", permanent=False))
        finally:
            send_seconds(row.channel).observe(time.perf_counter() - started)

    def _message(self, row: Row[Any]) -> Message:
        # A signed link per message costs time; only channels that show one get it.
        carries = getattr(self.transports.get(row.channel), "carries_unsubscribe", False)
        return Message(id=row.id, key=row.key, channel=row.channel, recipient=row.recipient,
                       language=row.language, kind=row.kind, body=row.body or "",
                       subject=row.subject, html=row.html,
                       unsubscribe=self.unsubscribe(row) if self.unsubscribe and carries
                       else None)

    def _record_or_hold(self, results: Sequence[_Result]) -> None:
        """Record these outcomes (and any held before); hold them while the database is
        unreachable, so the sends in flight carry on meanwhile."""
        if results:
            self.held.append(self._outcomes(results))
        try:
            self._record_held()
        except DBAPIError as exc:
            if not is_outage(exc):
                raise
            self.reconnect.went_down(exc)
        else:
            self.reconnect.came_back()

    def _record_held(self) -> None:
        while self.held:
            self._record(self.held[0])
            self.held.pop(0)

    def _outcomes(self, results: Sequence[_Result]) -> _Outcomes:
        now = self.clock()
        outcomes, permanent = [], []
        counted: Counter[tuple[str, str, str]] = Counter()
        for result in results:
            outcome = self._outcome(result, now)
            outcomes.append(outcome)
            counted[_counted_as(result.row, outcome)] += 1
            if result.error is not None and outcome["status"] == FAILED:
                permanent.append((result.row, result.error))
            elif result.refused is not None:  # it falls back like the row refused first
                permanent.append((result.row, result.refused))
        for labels, count in counted.items():  # a lock each: once per kind, not per row
            sends(*labels).inc(count)
        return _Outcomes(outcomes, permanent)

    def _record(self, held: _Outcomes) -> None:
        with self._write() as conn, conn.begin():
            outbox.record(conn, held.outcomes)
            if held.permanent and self.hooks is not None:
                self.hooks.on_permanent(conn, held.permanent)
            self._sent(conn, held.outcomes)
        with self.tally:
            self.outcomes.update(str(o["status"]) for o in held.outcomes)

    def _sent(self, conn: Connection, outcomes: Sequence[dict[str, Any]]) -> None:
        ids = [str(o["provider_id"]) for o in outcomes if o["status"] == SENT and o["provider_id"]]
        if ids and self.hooks is not None:
            self.hooks.on_sent(conn, ids)

    def _outcome(self, result: _Result, now: datetime) -> dict[str, Any]:
        row, error = result.row, result.error
        if result.skipped is not None:
            return _outcome(row, SKIPPED, now, code=result.skipped)
        if error is None:
            assert result.receipt is not None
            if log.isEnabledFor(logging.INFO):  # else a line's fields cost more than the rest
                log.info("outbox %s sent by %s as %s", row.id, row.channel,
                         result.receipt.provider_id, extra=_ids(row, result.receipt.provider_id))
            return _outcome(row, SENT, now, provider_id=result.receipt.provider_id)
        retry_at = None if error.permanent else self.retry.next_try(row, now)
        log.warning("outbox %s to %s: %s (%s)", row.id, row.channel, error,
                    "retry" if retry_at else "gave up", extra=_ids(row))
        status = OutboxStatus.PENDING if retry_at else FAILED
        return _outcome(row, status, now, code=error.code, error=str(error),
                        due_at=retry_at or row.due_at)


def _all_there(results: queue.SimpleQueue[_Result]) -> list[_Result]:
    """The results already in the queue."""
    taken = []
    while True:
        try:
            taken.append(results.get_nowait())
        except queue.Empty:
            return taken


def _ids(row: Row[Any], provider_id: str | None = None) -> dict[str, Any]:
    """The ids a log line about `row` carries (structured logs show them as fields)."""
    ids = {"notice_id": row.id, "outage_id": row.outage_id}
    return ids if provider_id is None else {**ids, "provider_message_id": provider_id}


# The outcome a finished send is counted under, by the status its row is left in.
_OUTCOME = {SENT: "sent", FAILED: "failed", OutboxStatus.PENDING: "retry", SKIPPED: "skipped"}


def _counted_as(row: Row[Any], outcome: dict[str, Any]) -> tuple[str, str, str]:
    """The labels of notifier_sends_total a finished send is counted under."""
    return row.channel, _OUTCOME[outcome["status"]], outcome["last_error_code"] or ""


def _outcome(row: Row[Any], status: OutboxStatus, now: datetime, *,
             provider_id: str | None = None, code: str | None = None, error: str | None = None,
             due_at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": row.id, "status": status, "sent_at": now if status == SENT else None,
        "provider_id": provider_id, "last_error_code": code, "last_error": error,
        "due_at": due_at or row.due_at, "updated_at": now,
    }

