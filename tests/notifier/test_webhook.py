"""The desk's webhook channel against a real loopback receiver: signed bodies, and which
answers are retried."""

from __future__ import annotations

import json
import time

import pytest

from notifier.channels import DeliveryError, Message, WebhookChannel
from notifier.channels.webhook import signature
from tests.support.webhook_server import MAX_AGE, webhook_receiver

SECRET = "desk-secret"


def _message(url: str, body: str = '{"event": "partial_restoration", "alert": {"id": 7}}'
             ) -> Message:
    return Message(id=1, key="alert7:webhook", channel="webhook", recipient=url,
                   language="vi", kind="partial_restoration", body=body)


def test_the_receiver_verifies_the_signature_over_the_exact_body() -> None:
    with webhook_receiver(SECRET) as receiver:
        WebhookChannel(secret=SECRET).send(_message(receiver.url, '{"tên": "Đống Đa"}'))
        [got] = receiver.accepted
    assert got.signature_ok and got.delivery == "alert7:webhook"
    assert got.payload == {"tên": "Đống Đa"}
    body, signed = b'{"a": 1}', {"timestamp": 1_700_000_000, "delivery": "alert7:webhook"}
    assert signature(SECRET, body, **signed) != signature(SECRET, b'{"a": 2}', **signed)


def test_a_captured_alert_cannot_be_sent_again_under_a_new_key_or_later() -> None:
    """The signature covers the delivery key and the moment it was sent: a copy replayed
    with another key, or after the receiver's window, fails the check."""
    with webhook_receiver(SECRET) as receiver:
        WebhookChannel(secret=SECRET).send(_message(receiver.url))
        [got] = receiver.accepted
        body = json.dumps(got.payload).encode()
        stamp = int(time.time())
        sent = {"X-Outages-Timestamp": str(stamp), "X-Outages-Delivery": "alert7:webhook",
                "X-Outages-Signature": signature(SECRET, body, timestamp=stamp,
                                                 delivery="alert7:webhook")}
        assert receiver.verify(body, sent)
        assert not receiver.verify(body, {**sent, "X-Outages-Delivery": "alert8:webhook"})
        old = stamp - MAX_AGE - 60
        assert not receiver.verify(body, {**sent, "X-Outages-Timestamp": str(old)})
        assert not receiver.verify(body, {**sent, "X-Outages-Timestamp": str(old),
                                          "X-Outages-Signature": signature(
                                              "not-the-secret", body, timestamp=old,
                                              delivery="alert7:webhook")})


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried() -> None:
    with webhook_receiver(SECRET) as receiver, pytest.raises(DeliveryError) as refused:
        WebhookChannel(secret="not-the-secret").send(_message(receiver.url))
    assert (refused.value.code, refused.value.permanent) == ("401", True)
    assert [a.signature_ok for a in receiver.attempts] == [False] and not receiver.accepted


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (429, False),
                                                   (408, False), (404, True), (400, True)])
def test_which_answers_are_retried(status: int, permanent: bool) -> None:
    with webhook_receiver(SECRET) as receiver:
        receiver.answers.append(status)
        with pytest.raises(DeliveryError) as failed:
            WebhookChannel(secret=SECRET).send(_message(receiver.url))
    assert failed.value.permanent is permanent and failed.value.code == str(status)


def test_an_unreachable_receiver_is_transient() -> None:
    with webhook_receiver(SECRET) as receiver:
        url = receiver.url
    with pytest.raises(DeliveryError) as failed:
        WebhookChannel(secret=SECRET, timeout=2).send(_message(url))
    assert (failed.value.code, failed.value.permanent) == ("network", False)
    assert json.loads(_message(url).body)["alert"]["id"] == 7
