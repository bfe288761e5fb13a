"""The SMS channel through the real twilio client against the loopback Twilio stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifier.channels.base import DeliveryError, Message
from notifier.channels.sms import SmsChannel
from tests.support.twilio_server import TwilioServer

SID = "AC" + "0" * 32


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    server = TwilioServer().start()
    yield server
    server.stop()


def _message(to: str) -> Message:
    return Message(id=1, key="k", channel="sms", recipient=to, language="vi", kind="fault_ack",
                   body="Mất điện", subject=None, html=None)


def _channel(twilio: TwilioServer) -> SmsChannel:
    return SmsChannel(account_sid=SID, auth_token="t", from_number="+15005550006",
                      api_url=twilio.url, timeout=2)


def test_proxy_settings_from_the_environment_still_apply(
        twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The channel reads HTTP_PROXY and NO_PROXY once rather than at every message."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    direct = _channel(twilio)
    assert direct.send(_message("+84912000001")).provider_id.startswith("SM")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    through_proxy = _channel(twilio)
    with pytest.raises(DeliveryError, match="network"):
        through_proxy.send(_message("+84912000002"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassing = _channel(twilio)
    assert bypassing.send(_message("+84912000003")).provider_id.startswith("SM")
    assert [m["To"] for m in twilio.messages] == ["+84912000001", "+84912000003"]


def test_a_send_whose_answer_never_came_may_have_been_sent(twilio: TwilioServer) -> None:
    """A read timeout after the request went out is `maybe_sent` (looked up before the
    retry); a connection never made is `network` (simply tried again)."""
    channel = SmsChannel(account_sid=SID, auth_token="t", from_number="+15005550006",
                         api_url=twilio.url, timeout=0.3)
    twilio.latency = 1.0
    with pytest.raises(DeliveryError) as slow:
        channel.send(_message("+84912000001"))
    assert slow.value.code == "maybe_sent" and not slow.value.permanent
    assert twilio.wait_for_count(1, timeout=5)  # it did arrive
    twilio.latency = 0.0
    found = channel.lookup(_message("+84912000001"), datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.provider_id is not None
    nowhere = SmsChannel(account_sid=SID, auth_token="t", from_number="+15005550006",
                         api_url="http://127.0.0.1:9", timeout=0.3)  # nothing listens there
    with pytest.raises(DeliveryError) as refused:
        nowhere.send(_message("+84912000002"))
    assert refused.value.code == "network"
