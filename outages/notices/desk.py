"""Alerts to the dispatch desk, through the outbox like every notice: written in the same
transaction as the reply that raised them, keyed by the alert and channel (so an alert goes
out once however many replies join it), retried by the worker.

The email goes to `alerts.email` in the default language; the webhook POSTs JSON to
`alerts.webhook_url`, signed by the webhook channel (notifier/channels/webhook.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from notifier import outbox
from notifier.enums import ChannelName, OutboxStatus
from outages.lifecycle import alerts
from outages.lifecycle.results import AlertView
from outages.notices.queue import render
from outages.settings import Settings


def queue_alert(conn: Connection, settings: Settings, *, alert_id: int, outage: Row[Any],
                now: datetime) -> int:
    """Queue the alert on the desk's channels that are set up; rows already queued for it
    stay as they are."""
    alert = alerts.one(conn, settings, alert_id)
    if alert is None:
        return 0
    rows = []
    if settings.alerts.email:
        rows.append(_email(settings, alert, outage, now))
    if settings.alerts.webhook_url:
        rows.append(_row(alert, outage, now, channel=ChannelName.WEBHOOK,
                         recipient=settings.alerts.webhook_url,
                         language=settings.locale.default_language, body=_payload(alert)))
    return outbox.enqueue(conn, rows)


def _email(settings: Settings, alert: AlertView, outage: Row[Any],
           now: datetime) -> dict[str, Any]:
    language = settings.locale.default_language
    context = {"utility": settings.notices.utility_name, "hotline": settings.notices.hotline,
               "count": alert.still_out, "kind": outage.kind,
               "outage_id": outage.id, "area": outage.area_name, "status": outage.status,
               "alert_id": alert.id, "opened_at": datetime.fromisoformat(alert.opened_at or ""),
               "unsubscribe_url": None}
    text = render(settings, ChannelName.EMAIL, language, alerts.PARTIAL_RESTORATION, context,
                  now=now)
    return _row(alert, outage, now, channel=ChannelName.EMAIL, recipient=settings.alerts.email,
                language=language, body=text.body, subject=text.subject, html=text.html)


def _payload(alert: AlertView) -> str:
    """What the desk's system receives: the alert as the API lists it."""
    return json.dumps({"event": alert.kind, "alert": alert.model_dump(mode="json")},
                      ensure_ascii=False, sort_keys=True)


def _row(alert: AlertView, outage: Row[Any], now: datetime, *, channel: str, recipient: str,
         language: str, body: str, subject: str | None = None,
         html: str | None = None) -> dict[str, Any]:
    return {
        "key": f"alert{alert.id}:{channel}", "outage_id": outage.id,
        "revision": outage.revision, "customer_id": None, "kind": alert.kind,
        "channel": channel, "recipient": recipient, "language": language, "urgent": True,
        "due_at": now, "ref_at": None, "status": OutboxStatus.PENDING, "attempts": 0,
        "subject": subject, "body": body, "html": html, "encoding": None, "segments": None,
        "cost": 0.0, "created_at": now, "updated_at": now,
    }
