"""YES confirming a subscription is an opt-in, over the signed Twilio webhook."""

from __future__ import annotations

from xml.etree import ElementTree

from sqlalchemy import insert, select

from notifier.store import outbox
from outages.models import Customer, Subscription
from outages.notices import recipients
from outages.timeutil import utcnow

_c = Customer.__table__.c
_s = Subscription.__table__.c
PHONE = "+84912345003"  # PD0003's own number (John Smith, English)


def _sms(twilio_post, body: str, phone: str = PHONE) -> str | None:
    response = twilio_post("/twilio/inbound", {"From": phone, "Body": body})
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    return root[0].text if len(root) else None


def test_yes_confirming_a_subscription_after_stop_is_mirrored_as_an_opt_in(
        twilio_post, engine, people, app_settings) -> None:
    """YES is one of Twilio's opt-in keywords (DOMAIN.md 4: STOP...; opt back in with START,
    YES, UNSTOP; "mirror them in our own suppression data"). A number that texted STOP and
    later answers "SUB PD0001" with "YES" is opted in again at Twilio and is told "You will
    get power outage notices for PD0001", but our own data keeps it opted out, so every
    notice to the new subscription (and to its own account) is skipped as sms_opt_out."""
    _sms(twilio_post, "STOP")
    assert "Reply YES" in (_sms(twilio_post, "SUB PD0001") or "")
    done = _sms(twilio_post, "YES")
    assert done is not None and "You will get power outage notices for PD0001" in done
    with engine.connect() as conn:
        [sub] = conn.execute(select(_s.id, _s.status).where(_s.contact == PHONE)).all()
    assert sub.status == "active"
    # A notice to the subscription as the planner queues it, rechecked by the worker.
    with engine.begin() as conn:
        conn.execute(insert(outbox).values(
            key="review:announcement:" + PHONE, outage_id=None, customer_id=None,
            subscription_id=sub.id, kind="announcement", channel="sms", recipient=PHONE,
            language="en", due_at=utcnow(), status="pending", body="Power will be off ..."))
        row = conn.execute(select(outbox).where(outbox.c.recipient == PHONE)).one()
        verdict = recipients.recheck(conn, app_settings, [row])
        opted_out = conn.execute(select(_c.sms_opt_out).where(_c.code == "PD0003")).scalar_one()
    assert verdict.skip.get(row.id) is None, (
        f"the subscription just confirmed hears nothing: skipped as {verdict.skip[row.id]!r}")
    assert opted_out is False
