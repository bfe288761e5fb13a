"""Prometheus metrics of the service: HTTP requests, active outages, and the exposition that
serves them with notifier's send metrics and outbox gauges.

Counters and histograms live in each process. When several processes serve the same metrics
(`outages serve --workers N`), prometheus-client's multiprocess mode keeps them in files
under the directory PROMETHEUS_MULTIPROC_DIR names, and a scrape sums every process's files.
Figures that come from the database (outbox rows, active outages) are read at scrape time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from threading import Thread

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from notifier.metrics import OutboxCollector
from outages.enums import CUT_PENDING, INCIDENT_OPEN, OutageKind
from outages.errors import ConfigError
from outages.models.outages import Outage

CONTENT_TYPE = CONTENT_TYPE_LATEST
# prometheus-client's own variable: it decides at import whether values go to files.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "outages_http_requests_total",
    "HTTP requests by method, route template (not the path) and status.",
    ["method", "route", "status"])
HTTP_SECONDS = Histogram(
    "outages_http_request_seconds", "Time to answer an HTTP request, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

_ACTIVE = {OutageKind.PLANNED: CUT_PENDING, OutageKind.FAULT: INCIDENT_OPEN}


class OutagesCollector(Collector):
    """Outages not over yet, by kind and status: one aggregate query per scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("outages_active", "Outages not over yet, by kind and status.",
                                   labels=["kind", "status"])
        counts = {(str(kind), str(status)): 0 for kind, statuses in _ACTIVE.items()
                  for status in statuses}
        statuses = [str(s) for group in _ACTIVE.values() for s in group]
        query = (select(Outage.kind, Outage.status, func.count())
                 .where(Outage.status.in_(statuses)).group_by(Outage.kind, Outage.status))
        with self.engine.connect() as conn:
            for kind, status, count in conn.execute(query).all():
                if (kind, status) in counts:
                    counts[(kind, status)] = count
        for (kind, status), count in counts.items():
            family.add_metric([kind, status], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())  # not collected at registration: that would query the database


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _Scrape(Collector):
    """Everything one scrape shows: the process counters (summed over every process's files
    in multiprocess mode, else this process's), then the database gauges."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        path = multiprocess_dir()
        if path:
            yield from multiprocess.MultiProcessCollector(None, path=path).collect()
        else:
            yield from REGISTRY.collect()
        yield from OutboxCollector(self.engine).collect()
        yield from OutagesCollector(self.engine).collect()


def registry(engine: Engine) -> CollectorRegistry:
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Scrape(engine))
    return scrape


def exposition(engine: Engine) -> bytes:
    """The metrics in the Prometheus text format."""
    return generate_latest(registry(engine))


def serve(engine: Engine, host: str, port: int, *, field: str) -> Thread:
    """Answer GET /metrics (any path, in fact) on host:port from a daemon thread; a
    ConfigError naming `field` when the address cannot be listened on."""
    try:
        _server, thread = start_http_server(port, addr=host, registry=registry(engine))
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
                          field=field) from None
    return thread


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """Before server processes start: the directory their metrics files go to, emptied of a
    previous run's files (their counts would be added to this run's). Created, and to be
    removed at exit (the bool), when PROMETHEUS_MULTIPROC_DIR does not name one."""
    given = multiprocess_dir()
    if given is None:
        path = Path(tempfile.mkdtemp(prefix="outages-metrics-"))
        os.environ[MULTIPROC_ENV] = str(path)  # before any process imports prometheus-client
        return path, True
    path = Path(given)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path, False


def remove_multiprocess_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
