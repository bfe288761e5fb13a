"""The SMS channel through the real twilio client against the loopback Twilio stand-in."""

from __future__ import annotations

from collections.abc import Iterator

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
