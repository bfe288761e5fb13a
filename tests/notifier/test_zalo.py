"""The Zalo ZNS channel against the loopback Zalo stand-in: sends, token refresh with rotating
refresh tokens, and how each kind of Zalo answer is classed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.channels import DeliveryError, Message
from notifier.channels.base import MAYBE_SENT
from notifier.channels.zalo import PARAM_LIMITS, ZaloChannel, tracking_id
from notifier.enums import BARS_ADDRESS, Outcome
from tests.support.zalo_server import APP_ID, SECRET_KEY, ZaloServer

PHONE = "+84912345678"
TEMPLATES = {"fault_ack": {"vi": "290001", "en": "290002"}}


@pytest.fixture
def zalo() -> Iterator[ZaloServer]:
    server = ZaloServer().start()
    yield server
    server.stop()


def _channel(zalo: ZaloServer, token_store: Path, **options: Any) -> ZaloChannel:
    config: dict[str, Any] = {"app_id": APP_ID, "secret_key": SECRET_KEY,
                              "refresh_token": "refresh-0", "templates": TEMPLATES,
                              "token_store": str(token_store), "api_url": zalo.url,
                              "oauth_url": zalo.url, **options}
    return ZaloChannel(**config)


def _message(*, phone: str = PHONE, kind: str = "fault_ack", language: str = "vi",
             params: dict[str, str] | None = None, row: int = 1, key: str = "") -> Message:
    body = json.dumps(params if params is not None else {"area": "Phường Láng Hạ",
                                                          "etr": "13:00"})
    return Message(id=row, key=key or f"1:r1:{kind}:7:zalo", channel="zalo", recipient=phone,
                   language=language, kind=kind, body=body)


def test_sends_the_template_to_the_phone_without_plus(zalo: ZaloServer, tmp_path: Path) -> None:
    channel = _channel(zalo, tmp_path / "token.json")
    try:
        receipt = channel.send(_message(language="en"))
    finally:
        channel.close()
    [sent] = zalo.messages
    assert sent["phone"] == "84912345678"
    assert sent["template_id"] == "290002"
    assert sent["template_data"] == {"area": "Phường Láng Hạ", "etr": "13:00"}
    assert sent["tracking_id"] == tracking_id(1, "1:r1:fault_ack:7:zalo")
    assert receipt.provider_id and len(receipt.provider_id) == 32


def test_a_long_outbox_key_still_gets_a_tracking_id_zalo_takes(
    zalo: ZaloServer, tmp_path: Path,
) -> None:
    # A planned cut's reminder for the window it told: the key runs past Zalo's 48 characters.
    key = "1048576:r12w11:planned_reminder_changed_window:10485760:zalo"
    assert len(key) > 48
    channel = _channel(zalo, tmp_path / "token.json")
    try:
        channel.send(_message(row=9_000_001, key=key))
        channel.send(_message(row=9_000_001, key=key))  # a retry of the same row
        channel.send(_message(row=9_000_002, key=key.replace("10485760", "10485761")))
    finally:
        channel.close()
    first, retry, other = (m["tracking_id"] for m in zalo.messages)
    assert len(first) <= 48 and first.isalnum()
    assert first == retry != other


def test_refresh_tokens_rotate_and_the_new_one_survives_a_restart(
    zalo: ZaloServer, tmp_path: Path,
) -> None:
    token_store = tmp_path / "token.json"
    first = _channel(zalo, token_store)
    first.send(_message())
    first.send(_message())
    assert zalo.refreshes == 1  # the access token is reused while it lives
    zalo.expire_token()  # Zalo now answers -124 to the old access token
    first.send(_message())
    first.close()
    assert zalo.refreshes == 2 and len(zalo.messages) == 3
    stored = json.loads(token_store.read_text())
    assert stored["refresh_token"] == zalo.refresh_token == "refresh-2"
    assert token_store.stat().st_mode & 0o077 == 0
    # A restarted worker still has refresh-0 in its settings, spent long ago: the file wins.
    zalo.expire_token()
    second = _channel(zalo, token_store)
    try:
        second.send(_message())
    finally:
        second.close()
    assert zalo.refreshes == 3 and len(zalo.messages) == 4


def test_a_second_worker_takes_the_token_the_first_refreshed(
    zalo: ZaloServer, tmp_path: Path,
) -> None:
    token_store = tmp_path / "token.json"
    one, two = _channel(zalo, token_store), _channel(zalo, token_store)
    try:
        one.send(_message())
        two.send(_message())
        zalo.expire_token()
        one.send(_message())  # refreshes: refresh-1 is spent
        two.send(_message())  # its token is stale too, but it must not spend refresh-1
    finally:
        one.close()
        two.close()
    assert zalo.refreshes == 2 and len(zalo.messages) == 4


@pytest.mark.parametrize(("code", "permanent"), [
    (-100, False),  # unknown error: try again later
    (-115, False),  # out of quota
    (-133, True),  # night-time ban: this notice goes by SMS at once
    (-109, True),  # template id invalid
    (-112, True),  # template data invalid
    (-118, True),  # no Zalo account
    (-119, True),  # account cannot receive ZNS
])
def test_zalo_error_codes_are_transient_or_permanent(
    zalo: ZaloServer, tmp_path: Path, code: int, permanent: bool,
) -> None:
    zalo.fail("84912345678", code)
    channel = _channel(zalo, tmp_path / "token.json")
    try:
        with pytest.raises(DeliveryError) as failed:
            channel.send(_message())
    finally:
        channel.close()
    assert (failed.value.code, failed.value.permanent) == (str(code), permanent)
    # No Zalo account is a verdict on the channel, not on the phone number: an SMS may still
    # reach it.
    assert failed.value.outcome == (Outcome.ABSENT if code in (-118, -119) else None)
    assert failed.value.outcome not in BARS_ADDRESS


def test_a_refused_refresh_token_is_transient_and_named(zalo: ZaloServer, tmp_path: Path) -> None:
    channel = _channel(zalo, tmp_path / "token.json", refresh_token="revoked")
    try:
        with pytest.raises(DeliveryError) as failed:
            channel.send(_message())
    finally:
        channel.close()
    assert (failed.value.code, failed.value.permanent) == ("token_refresh", False)
    assert "refresh token" in str(failed.value)


def test_network_failure_is_transient(tmp_path: Path) -> None:
    server = ZaloServer().start()
    url = server.url
    server.stop()  # nothing listens there any more
    channel = ZaloChannel(app_id=APP_ID, secret_key=SECRET_KEY, refresh_token="refresh-0",
                          templates=TEMPLATES, token_store=str(tmp_path / "t.json"),
                          api_url=url, oauth_url=url, timeout=2.0)
    try:
        with pytest.raises(DeliveryError) as failed:
            channel.send(_message())
    finally:
        channel.close()
    assert (failed.value.code, failed.value.permanent) == ("network", False)


def test_a_send_left_unanswered_is_marked_as_maybe_taken(tmp_path: Path) -> None:
    slow = ZaloServer(latency=1.0).start()
    slow.access_token = "access-seeded"  # only the send is slow to answer, not a refresh
    token_store = tmp_path / "token.json"
    token_store.write_text(json.dumps({"access_token": "access-seeded", "refresh_token": "r",
                                       "expires_at": time.time() + 3600}))
    channel = ZaloChannel(app_id=APP_ID, secret_key=SECRET_KEY, refresh_token="refresh-0",
                          templates=TEMPLATES, token_store=str(token_store),
                          api_url=slow.url, oauth_url=slow.url, timeout=0.3)
    try:
        with pytest.raises(DeliveryError) as failed:
            channel.send(_message())
        assert slow.wait_for_count(1, timeout=5)  # Zalo took it all the same
    finally:
        channel.close()
        slow.stop()
    assert (failed.value.code, failed.value.permanent) == (MAYBE_SENT, False)


def test_parameters_over_their_limit_and_missing_templates_are_refused_before_sending(
    zalo: ZaloServer, tmp_path: Path,
) -> None:
    # An area registered as an address takes 80 characters, a reason as a custom label 30.
    area = "Phường Láng Hạ, Phường Thành Công, một phần Phường Ngọc Khánh (quận Ba Đình)"
    reason = "thay cáp ngầm 22 kV lộ 475 E1.4"
    assert len(area) < PARAM_LIMITS["area"] < len(area + " và Giảng Võ")
    assert len(reason) > PARAM_LIMITS["reason"]
    channel = _channel(zalo, tmp_path / "token.json")
    try:
        with pytest.raises(DeliveryError) as long:
            channel.send(_message(params={"area": area + " và Giảng Võ", "reason": reason}))
        with pytest.raises(DeliveryError) as unlisted:  # any other parameter: a custom label
            channel.send(_message(params={"note": "x" * 31}))
        with pytest.raises(DeliveryError) as missing:
            channel.send(_message(kind="reminder"))
        channel.send(_message(params={"area": area, "reason": reason[:30]}))
    finally:
        channel.close()
    assert (long.value.code, long.value.permanent) == ("param_too_long", True)
    assert "area (88 > 80), reason (31 > 30)" in str(long.value)
    assert "zalo.param_limits" in str(long.value)
    assert "note (31 > 30)" in str(unlisted.value)
    assert (missing.value.code, missing.value.permanent) == ("no_template", True)
    assert "zalo.templates.reminder.vi" in str(missing.value)
    assert len(zalo.messages) == 1  # only the one within the limits


def test_a_template_registering_a_parameter_otherwise_sets_its_limit(
    zalo: ZaloServer, tmp_path: Path,
) -> None:
    channel = _channel(zalo, tmp_path / "token.json", param_limits={"area": 200})
    try:
        channel.send(_message(params={"area": "Phường Láng Hạ, " * 10}))  # 160 characters
    finally:
        channel.close()
    assert len(zalo.messages[0]["template_data"]["area"]) == 160
