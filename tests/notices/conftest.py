from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.twilio_server import TwilioServer
from tests.support.webhook_server import WebhookReceiver, webhook_receiver
from tests.support.zalo_server import APP_ID, SECRET_KEY, ZaloServer

TWILIO_SID = "AC" + "0" * 32
DESK_SECRET = "desk-webhook-secret"


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    server = TwilioServer().start()
    yield server
    server.stop()


@pytest.fixture
def twilio_env(twilio: TwilioServer) -> dict[str, str]:
    return {
        "OUTAGES_TWILIO_ACCOUNT_SID": TWILIO_SID,
        "OUTAGES_TWILIO_AUTH_TOKEN": "test-token",
        "OUTAGES_TWILIO_FROM_NUMBER": "+15005550006",
        "OUTAGES_TWILIO_API_URL": twilio.url,
        "OUTAGES_TWILIO_RATE_PER_SECOND": "1000",
        "OUTAGES_NOTICES_QUIET_HOURS": "",
        "OUTAGES_RETRY_BASE_DELAY": "0s",
    }


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """The dispatch desk's webhook receiver, checking signatures made with DESK_SECRET."""
    with webhook_receiver(DESK_SECRET) as server:
        yield server


@pytest.fixture
def zalo() -> Iterator[ZaloServer]:
    server = ZaloServer().start()
    yield server
    server.stop()


@pytest.fixture
def zalo_env(zalo: ZaloServer, tmp_path: Path) -> dict[str, str]:
    return {
        "OUTAGES_ZALO_APP_ID": APP_ID, "OUTAGES_ZALO_SECRET_KEY": SECRET_KEY,
        "OUTAGES_ZALO_REFRESH_TOKEN": "refresh-0", "OUTAGES_ZALO_API_URL": zalo.url,
        "OUTAGES_ZALO_OAUTH_URL": zalo.url,
        "OUTAGES_ZALO_TOKEN_STORE": str(tmp_path / "zalo-token.json"),
        "OUTAGES_ZALO_TEMPLATES": json.dumps({"fault_ack": {"vi": "290001", "en": "290002"}}),
    }
