"""Alerts to the dispatch desk, through the outbox like every notice: written in the same
transaction as the change that raised them, keyed by what they are about and the channel (so
an alert goes out once however many replies join it), retried by the worker.

Two kinds: a partial restoration (customers said power did not come back), and an incident's
ETR about to pass (`faults.etr_warn_before` ahead) with customers still out.

The email goes to `alerts.email` in the default language; the webhook POSTs JSON to
`alerts.webhook_url`, signed by the webhook channel (notifier/channels/webhook.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from notifier import outbox
from notifier.enums import ChannelName, OutboxStatus
from outages.lifecycle import alerts
from outages.lifecycle.results import AlertView
from outages.notices.queue import render
from outages.settings import Settings
from outages.timeutil import iso_local

# The desk's warning that an incident's ETR passes soon; at send time it is dropped unless
# the ETR it names still stands and customers are still out (notices/recipients.py).
ETR_PASSING = "etr_passing"


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


def queue_etr_warning(conn: Connection, settings: Settings, *, outage: Row[Any], revision: int,
                      now: datetime, etr_revision: int = 0) -> int:
    """Warn the desk `faults.etr_warn_before` ahead of the incident's ETR. Keyed by the ETR
    and the revision that set it (`etr_revision`), so it goes once per ETR, and again for an
    ETR moved back to an earlier time; an ETR set inside that window needs no warning (the
    dispatcher has just looked at it)."""
    warn_at = outage.etr - settings.faults.etr_warn_before
    if warn_at <= now:
        return 0
    language = settings.locale.default_language
    fields: dict[str, Any] = {
        "key_base": f"etrwarn{outage.id}-{int(outage.etr.timestamp())}r{etr_revision}",
        "outage_id": outage.id, "revision": revision, "kind": ETR_PASSING, "due_at": warn_at,
        "ref_at": outage.etr, "language": language, "now": now}
    rows = []
    if settings.alerts.email:
        context = warning_context(settings, outage, outage.etr)
        # Worded for when it goes out: an ETR after midnight is "today" by then.
        text = render(settings, ChannelName.EMAIL, language, ETR_PASSING, context, now=warn_at)
        rows.append(_desk_row(**fields, channel=ChannelName.EMAIL,
                              recipient=settings.alerts.email, body=text.body,
                              subject=text.subject, html=text.html))
    if settings.alerts.webhook_url:
        payload = {"event": ETR_PASSING, "incident": {
            "id": outage.id, "area_name": outage.area_name,
            "etr": iso_local(outage.etr, settings.tz),
            "warn_before_minutes": _minutes(settings.faults.etr_warn_before)}}
        rows.append(_desk_row(**fields, channel=ChannelName.WEBHOOK,
                              recipient=settings.alerts.webhook_url,
                              body=json.dumps(payload, ensure_ascii=False, sort_keys=True)))
    return outbox.enqueue(conn, rows)


def warning_context(settings: Settings, outage: Row[Any], etr: datetime) -> dict[str, Any]:
    """What the warning email of `outage`'s ETR `etr` is worded from, when queued and when
    worded again for another day."""
    return {"utility": settings.notices.utility_name, "outage_id": outage.id,
            "area": outage.area_name, "etr": etr,
            "minutes": _minutes(settings.faults.etr_warn_before), "unsubscribe_url": None}


def _minutes(span: timedelta) -> int:
    return round(span.total_seconds() / 60)


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
    return _desk_row(key_base=f"alert{alert.id}", outage_id=outage.id, revision=outage.revision,
                     kind=alert.kind, due_at=now, ref_at=None, language=language, now=now,
                     channel=channel, recipient=recipient, body=body, subject=subject,
                     html=html)


def _desk_row(*, key_base: str, outage_id: int, revision: int, kind: str, due_at: datetime,
              ref_at: datetime | None, language: str, now: datetime, channel: str,
              recipient: str, body: str, subject: str | None = None,
              html: str | None = None) -> dict[str, Any]:
    """An outbox row to the desk: no customer, urgent (quiet hours are for customers)."""
    return {
        "key": f"{key_base}:{channel}", "outage_id": outage_id, "revision": revision,
        "customer_id": None, "kind": kind, "channel": channel, "recipient": recipient,
        "language": language, "urgent": True, "due_at": due_at, "ref_at": ref_at,
        "status": OutboxStatus.PENDING, "attempts": 0, "subject": subject, "body": body,
        "html": html, "encoding": None, "segments": None, "cost": 0.0, "created_at": now,
        "updated_at": now,
    }
