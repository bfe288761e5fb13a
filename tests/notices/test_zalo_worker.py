"""A real `outages run` killed while sending Zalo notices, then started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from notifier.store import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.notices import zalo_receipts
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.notices import helpers as h
from tests.support.zalo_server import APP_ID, SECRET_KEY, ZaloServer

OUTAGES = str(Path(sys.executable).parent / "outages")
pytestmark = pytest.mark.real_clock  # the worker is another process


@pytest.fixture
def zalo() -> Iterator[ZaloServer]:
    server = ZaloServer(latency=0.01).start()
    yield server
    server.stop()


@pytest.mark.slow
def test_sigkill_mid_send_then_restart_sends_each_zalo_notice_once(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    zalo: ZaloServer, test_env: dict[str, str], tmp_path: Path,
) -> None:
    env = {**test_env, "OUTAGES_NOTICES_QUIET_HOURS": "", "OUTAGES_RETRY_BASE_DELAY": "0s",
           "OUTAGES_NOTICES_CHANNELS": "zalo", "OUTAGES_WORKER_CONCURRENCY": "8",
           "OUTAGES_ZALO_APP_ID": APP_ID, "OUTAGES_ZALO_SECRET_KEY": SECRET_KEY,
           "OUTAGES_ZALO_REFRESH_TOKEN": "refresh-0", "OUTAGES_ZALO_API_URL": zalo.url,
           "OUTAGES_ZALO_OAUTH_URL": zalo.url, "OUTAGES_ZALO_RATE_PER_SECOND": "1000",
           "OUTAGES_ZALO_TOKEN_STORE": str(tmp_path / "zalo-token.json"),
           "OUTAGES_ZALO_TEMPLATES": json.dumps({"fault_ack": {"vi": "290001"}})}
    settings = make_settings(**env)
    add_customers(h.customers(800))
    now = datetime.now(UTC)
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=now, etr=None,
                          members=h.customer_ids(engine), start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, now))
    first = _worker(env)
    assert zalo.wait_for_count(200, timeout=120), "the worker sent nothing"
    first.send_signal(signal.SIGKILL)
    first.wait()
    # A request the worker sent just before it died may still be read after the kill.
    assert zalo.wait_settled(timeout=30)
    accepted = list(zalo.messages)
    assert 0 < len(accepted) < 800, "kill the worker while it is sending"
    # Zalo's receipts for what it took arrive (the webhook), some for rows never recorded.
    with engine.begin() as conn:
        for message in accepted:
            zalo_receipts.record_receipt(conn, msg_id=message["msg_id"],
                                         tracking_id=message["tracking_id"], at=utcnow())
    # The restarted worker still has the spent refresh-0 in its settings: the stored one wins.
    second = _worker(env, "--timeout", "60")
    _, err = second.communicate(timeout=90)
    assert second.returncode == 0, err.decode()
    per_phone = Counter(zalo.phones())
    assert len(per_phone) == 800 and set(per_phone.values()) == {1}
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(outbox.c.status, func.count())
                                     .group_by(outbox.c.status)).all())  # type: ignore[arg-type]
    assert sum(statuses.values()) == 800 and set(statuses) <= {"sent", "delivered"}


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([OUTAGES, "run", "--until-idle", *args],
                            env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
