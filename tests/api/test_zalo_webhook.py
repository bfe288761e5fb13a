"""Zalo's delivery receipts: signed as Zalo documents, forward only, and resolving a message
whose send the worker did not live to record."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from notifier.channels import Message
from notifier.channels.zalo import ZaloChannel, tracking_id
from notifier.store import outbox
from outages.timeutil import utcnow
from tests.api.conftest import BASE
from tests.support import zalo_server

APP_ID, OA_SECRET = "1234567890", "oa-secret"


@pytest.fixture
def zalo_client(make_client: Any) -> Any:
    return make_client(OUTAGES_ZALO_APP_ID=APP_ID, OUTAGES_ZALO_OA_SECRET_KEY=OA_SECRET)


def _post(client: Any, event: dict[str, Any], *, secret: str = OA_SECRET,
          prefix: str = "mac=") -> Any:
    body = json.dumps(event, ensure_ascii=False)
    mac = hashlib.sha256(f"{APP_ID}{body}{event['timestamp']}{secret}".encode()).hexdigest()
    return client.post(BASE + "/zalo/events", content=body.encode(),
                       headers={"Content-Type": "application/json",
                                "X-ZEvent-Signature": f"{prefix}{mac}"})


def _received(msg_id: str, tracking_id: str = "", *,
              ago: timedelta = timedelta(seconds=2)) -> dict[str, Any]:
    signed_at = str(int((utcnow() - ago).timestamp() * 1000))  # Zalo's are in milliseconds
    return {"app_id": APP_ID, "event_name": "user_received_message", "timestamp": signed_at,
            "recipient": {"id": "84912345678"},
            "message": {"msg_id": msg_id, "tracking_id": tracking_id,
                        "delivery_time": "1733000000000"}}


def _row(engine: Any, key: str, status: str, provider_id: str | None) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(outbox).values(
            key=key, outage_id=None, customer_id=None, kind="fault_ack", channel="zalo",
            recipient="+84912345678", language="vi", due_at=utcnow(), status=status,
            provider_id=provider_id)).inserted_primary_key[0])


def _status(engine: Any, key: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.provider_id)
                           .where(outbox.c.key == key)).one()
    return row.status, row.provider_id


def test_a_signed_receipt_marks_the_message_delivered_once(zalo_client: Any, engine: Any) -> None:
    _row(engine, "k1", "sent", "m1")
    for _ in range(2):  # Zalo retries until it gets 200; the second changes nothing
        response = _post(zalo_client, _received("m1"))
        assert (response.status_code, response.json()) == (200, {"recorded": True})
        assert _status(engine, "k1") == ("delivered", "m1")


def test_a_receipt_for_a_message_left_in_flight_finds_it_by_tracking_id(
    zalo_client: Any, engine: Any,
) -> None:
    _row(engine, "7:r1:fault_ack:3:zalo", "sending", None)
    response = _post(zalo_client, _received("m2", tracking_id="7:r1:fault_ack:3:zalo"))
    assert response.status_code == 200
    # Delivered, so a restarted worker does not hand it back to be sent again.
    assert _status(engine, "7:r1:fault_ack:3:zalo") == ("delivered", "m2")


def test_a_message_with_a_long_key_left_in_flight_is_found_by_what_zalo_carried_back(
    zalo_client: Any, engine: Any, tmp_path: Path,
) -> None:
    key = "1048576:r12w11:planned_reminder_changed_window:10485760:zalo"
    row = _row(engine, key, "sending", None)
    zalo = zalo_server.ZaloServer().start()
    channel = ZaloChannel(app_id=zalo_server.APP_ID, secret_key=zalo_server.SECRET_KEY,
                          refresh_token="refresh-0", templates={"fault_ack": {"vi": "1"}},
                          token_store=str(tmp_path / "t.json"), api_url=zalo.url,
                          oauth_url=zalo.url)
    try:
        channel.send(Message(id=row, key=key, channel="zalo", recipient="+84912345678",
                             language="vi", kind="fault_ack", body='{"area": "Láng Hạ"}'))
    finally:
        channel.close()
        zalo.stop()
    [sent] = zalo.messages  # the worker died before recording it: the row is still sending
    response = _post(zalo_client, _received(sent["msg_id"], tracking_id=sent["tracking_id"]))
    assert (response.status_code, response.json()) == (200, {"recorded": True})
    assert _status(engine, key) == ("delivered", sent["msg_id"])


def test_a_tracking_id_naming_our_row_without_its_key_digest_finds_nothing(
    zalo_client: Any, engine: Any,
) -> None:
    row = _row(engine, "8:r1:fault_ack:4:zalo", "sending", None)
    forged = tracking_id(row, "8:r1:fault_ack:5:zalo")  # another sender's id of that number
    assert _post(zalo_client, _received("m5", tracking_id=forged)).json() == {"recorded": False}
    # Nor does another sender's id that only looks like ours.
    for foreign in ("9" * 30 + "k0", "²k0"):
        assert _post(zalo_client, _received("m5", tracking_id=foreign)).json() == {
            "recorded": False}
    assert _status(engine, "8:r1:fault_ack:4:zalo") == ("sending", None)


def test_a_receipt_signed_long_ago_is_acknowledged_and_changes_nothing(
    zalo_client: Any, make_client: Any, engine: Any,
) -> None:
    # A receipt captured in flight and played again later: its signature is still valid.
    _row(engine, "k6", "sending", None)
    replayed = _received("m6", tracking_id="k6", ago=timedelta(minutes=16))
    assert _post(zalo_client, replayed).json() == {"recorded": False}
    ahead = _received("m6", tracking_id="k6", ago=-timedelta(minutes=16))
    assert _post(zalo_client, ahead).json() == {"recorded": False}
    assert _status(engine, "k6") == ("sending", None)
    assert _post(zalo_client, _received("m6", tracking_id="k6", ago=timedelta(minutes=14))
                 ).json() == {"recorded": True}
    # The window is a setting.
    _row(engine, "k7", "sending", None)
    patient = make_client(OUTAGES_ZALO_APP_ID=APP_ID, OUTAGES_ZALO_OA_SECRET_KEY=OA_SECRET,
                          OUTAGES_ZALO_WEBHOOK_MAX_AGE="1h")
    assert _post(patient, _received("m7", tracking_id="k7", ago=timedelta(minutes=30))
                 ).json() == {"recorded": True}


def test_unsigned_or_wrongly_signed_events_change_nothing(zalo_client: Any, engine: Any) -> None:
    _row(engine, "k3", "sent", "m3")
    assert _post(zalo_client, _received("m3"), secret="guess").status_code == 403
    unsigned = zalo_client.post(BASE + "/zalo/events", content=json.dumps(_received("m3")),
                                headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 403
    assert _status(engine, "k3") == ("sent", "m3")


def test_without_an_oa_secret_key_every_event_is_refused(make_client: Any, engine: Any) -> None:
    client = make_client(OUTAGES_ZALO_APP_ID=APP_ID)
    _row(engine, "k4", "sent", "m4")
    assert _post(client, _received("m4"), secret="").status_code == 403
    assert _status(engine, "k4") == ("sent", "m4")


def test_other_events_are_acknowledged_and_ignored(zalo_client: Any, engine: Any) -> None:
    event = {"app_id": APP_ID, "event_name": "follow", "timestamp": "1733000000000"}
    response = _post(zalo_client, event)
    assert (response.status_code, response.json()) == (200, {"recorded": False})


def test_the_signature_is_checked_on_the_bytes_received_with_or_without_its_prefix(
        zalo_client: Any, engine: Any) -> None:
    _row(engine, "k9", "sent", "m9")
    event = {**_received("m9"), "note": "Điện lực Hà Nội"}
    assert _post(zalo_client, event, prefix="").status_code == 200
    assert _status(engine, "k9") == ("delivered", "m9")
    bad = zalo_client.post(BASE + "/zalo/events", content=json.dumps(event).encode(),
                           headers={"Content-Type": "application/json",
                                    "X-ZEvent-Signature": b"mac=\xe9\xe9"})
    assert bad.status_code == 403
