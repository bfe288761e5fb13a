"""Zalo OA webhook: delivery receipts of ZNS messages.

Zalo signs each event with X-ZEvent-Signature: "mac=" + sha256(app id + the raw JSON body +
the event's timestamp + the OA secret key), hex; the digest is also accepted without its
"mac=" prefix, as some OA gateways forward it. A request without a valid signature gets
403 and nothing is read or changed; a signed receipt whose timestamp is further than
zalo.webhook_max_age from now (a replay) is acknowledged and changes nothing. Other events
are acknowledged and ignored: Zalo disables a webhook that does not answer 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from outages.api.deps import EngineDep, SettingsDep
from outages.db import write_transaction
from outages.errors import ValidationError
from outages.notices import zalo_receipts
from outages.results import Result
from outages.timeutil import utcnow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/zalo", tags=["zalo"],
                   responses={403: {"description": "missing or invalid X-ZEvent-Signature"}})


def expected_signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    signed = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return f"mac={hashlib.sha256(signed).hexdigest()}"


def _given_signature(request: Request) -> str:
    given = request.headers.get("X-ZEvent-Signature", "").strip()
    return given if given.lower().startswith("mac=") or not given else f"mac={given}"


async def signed_event(request: Request, app_id: str, oa_secret_key: str) -> dict[str, Any]:
    """The event Zalo signed; 403 for anything else."""
    raw = await request.body()  # signed as received: decoding first could change the bytes
    try:
        event = json.loads(raw)
    except ValueError:
        event = None
    given = _given_signature(request)
    timestamp = str(event.get("timestamp", "")) if isinstance(event, dict) else ""
    expected = expected_signature(app_id, raw, timestamp, oa_secret_key).encode()
    # Compared as bytes: a header may carry any Latin-1 character, which a str compare refuses.
    if not (app_id and oa_secret_key and given and isinstance(event, dict)
            and hmac.compare_digest(given.lower().encode("latin-1", "replace"), expected)):
        log.warning("rejected Zalo webhook: %s", "no OA secret key configured"
                    if not oa_secret_key else "bad or missing signature")
        raise HTTPException(403, "invalid or missing X-ZEvent-Signature")
    return event


class Acknowledged(Result):
    """Zalo needs a 200 to every event, or it disables the webhook."""

    recorded: bool  # whether the event was a delivery receipt of a known message


@router.post("/events", summary="Zalo OA events: ZNS delivery receipts")
async def events(request: Request, engine: EngineDep, settings: SettingsDep) -> Acknowledged:
    event = await signed_event(request, settings.zalo.app_id, settings.zalo.oa_secret_key)
    if event.get("event_name") != zalo_receipts.RECEIVED:
        return Acknowledged(recorded=False)
    if not _recent(event, settings.zalo.webhook_max_age):
        # Still 200: Zalo disables a webhook that refuses its events, late ones included.
        log.warning("Zalo event signed at %r ignored: further than zalo.webhook_max_age "
                    "from now (a replay, or this host's clock is off)", event.get("timestamp"))
        return Acknowledged(recorded=False)
    message = event.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    if not msg_id:
        raise ValidationError("missing message.msg_id", field="message")
    tracking_id = message.get("tracking_id") if isinstance(message, dict) else None
    recorded = await run_in_threadpool(_record, engine, str(msg_id),
                                       str(tracking_id) if tracking_id else None)
    return Acknowledged(recorded=recorded)


def _recent(event: dict[str, Any], max_age: timedelta) -> bool:
    """Whether the event's signed timestamp (milliseconds since the epoch) is within
    `max_age` of now, either way (clocks drift)."""
    try:
        signed_at = datetime.fromtimestamp(int(str(event.get("timestamp"))) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return False
    return abs(utcnow() - signed_at) <= max_age


def _record(engine: Engine, msg_id: str, tracking_id: str | None) -> bool:
    with write_transaction(engine) as conn:
        return zalo_receipts.record_receipt(conn, msg_id=msg_id, tracking_id=tracking_id,
                                            at=utcnow()) is not None
