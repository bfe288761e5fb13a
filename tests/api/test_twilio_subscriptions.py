"""Subscriptions by SMS over the signed Twilio webhook: DK <code|district> then CO, HUY <code>
and HUY, their English equivalents (SUB, YES, UNSUB), and a burst of DK with random codes
that costs at most the configured replies."""

from __future__ import annotations

import random
import string
from xml.etree import ElementTree

from sqlalchemy import select

from notifier.store import outbox
from outages.models import AuditEntry, Customer, Subscription

_s = Subscription.__table__.c
_c = Customer.__table__.c
RELATIVE = "+84987000001"


def _sms(twilio_post, body: str, phone: str = RELATIVE, target=None) -> str | None:
    """The reply text, or None when the answer sends no SMS."""
    response = twilio_post("/twilio/inbound", {"From": phone, "Body": body}, target=target)
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    return root[0].text if len(root) else None


def _subscriptions(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(Subscription.__table__).order_by(_s.id)))


def test_dk_then_co_subscribes_the_phone_and_huy_code_ends_it(twilio_post, engine,
                                                              people) -> None:
    ask = _sms(twilio_post, "Đăng ký pd0001")
    assert ask is not None and "Tra loi CO" in ask and "PD0001" in ask
    [pending] = _subscriptions(engine)
    assert (pending.status, pending.via, pending.channel) == ("pending", "sms", "sms")
    done = _sms(twilio_post, "co")
    assert done is not None and "Da dang ky" in done and "HUY PD0001" in done
    district = _sms(twilio_post, "dk hoàn kiếm")
    assert district is not None and "HOAN KIEM" in district
    assert "Da dang ky" in (_sms(twilio_post, "CO") or "")
    rows = _subscriptions(engine)
    assert [(r.status, r.target_kind, r.target, r.customer_id, r.language) for r in rows] == [
        ("active", "customer", "PD0001", people["PD0001"], "vi"),
        ("active", "district", "Hoan Kiem", None, "vi")]
    ended = _sms(twilio_post, "huy pd0001")
    assert ended is not None and "Da ngung" in ended and "PD0001" in ended
    assert [r.status for r in _subscriptions(engine)] == ["ended", "active"]
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action).where(
            AuditEntry.entity == "subscription").order_by(AuditEntry.id)).scalars().all()
    assert actions == ["subscription.confirm", "subscription.confirm", "subscription.end"]
    with engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []  # replies are TwiML, not notices


def test_huy_alone_ends_every_subscription_and_opts_the_number_out(twilio_post, engine,
                                                                   people) -> None:
    phone = "+84912345003"  # PD0003's own number follows PD0004 too
    _sms(twilio_post, "DK PD0004", phone)
    _sms(twilio_post, "CO", phone)
    assert [r.status for r in _subscriptions(engine)] == ["active"]
    reply = _sms(twilio_post, "HUY", phone)
    assert reply is not None and "no longer receive" in reply  # the account's language
    assert [r.status for r in _subscriptions(engine)] == ["ended"]
    with engine.connect() as conn:
        assert conn.execute(select(_c.sms_opt_out).where(_c.code == "PD0003")).scalar_one()


def test_english_keywords_answer_in_english(twilio_post, engine, people) -> None:
    ask = _sms(twilio_post, "sub PD0002")
    assert ask is not None and "Reply YES" in ask
    done = _sms(twilio_post, "Yes")
    assert done is not None and "You will get power outage notices for PD0002" in done
    assert _subscriptions(engine)[0].language == "en"
    stopped = _sms(twilio_post, "UNSUB PD0002")
    assert stopped is not None and "stopped" in stopped
    assert "Text SUB" in (_sms(twilio_post, "SUB") or "")
    # YES with nothing waiting is START, as before (in the number's account language).
    assert "da dang ky nhan tin" in (_sms(twilio_post, "YES") or "")
    assert "Khong co yeu cau" in (_sms(twilio_post, "CO") or "")


def test_an_unknown_code_is_answered_as_a_known_one(twilio_post, engine, people) -> None:
    known = _sms(twilio_post, "DK PD0005", "+84987000002")
    unknown = _sms(twilio_post, "DK QQ0005", "+84987000003")
    assert known is not None and unknown is not None
    assert known.replace("PD0005", "X") == unknown.replace("QQ0005", "X")
    assert _sms(twilio_post, "CO", "+84987000003") == \
        (_sms(twilio_post, "CO", "+84987000002") or "").replace("PD0005", "QQ0005")


def test_a_burst_of_dk_with_random_codes_sends_at_most_the_configured_replies(
    make_client, twilio_post, engine, people,
) -> None:
    limited = make_client(OUTAGES_SUBSCRIPTIONS_SMS_REQUESTS_PER_PHONE_PER_DAY="3")
    rng = random.Random(12)
    codes = ["".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
             for _ in range(40)]
    replies = [_sms(twilio_post, f"DK {code}", target=limited) for code in codes]
    assert sum(r is not None for r in replies) == 3
    assert len(_subscriptions(engine)) == 3
    # Another number has its own allowance; the flooding one still may stop.
    assert _sms(twilio_post, "DK PD0001", "+84987000009", target=limited) is not None
    assert _sms(twilio_post, "HUY", target=limited) is not None


def test_the_twilio_reply_limit_still_caps_subscription_replies(
    make_client, twilio_post, engine, people,
) -> None:
    limited = make_client(OUTAGES_TWILIO_REPLIES_PER_HOUR="2")
    replies = [_sms(twilio_post, f"DK R{i:05d}", target=limited) for i in range(10)]
    answered = [r for r in replies if r is not None]
    assert len(answered) == 3  # two answers, then once "no more replies this hour"
    assert "khong tra loi them" in answered[2], answered


def test_huy_with_a_code_spelled_with_a_hyphen_ends_only_that_subscription(
        twilio_post, engine, add_customers) -> None:
    add_customers([
        {"code": "HN-0042", "phone": "+84912399001", "lon": 105.852, "lat": 21.028},
        {"code": "HN-0043", "phone": "+84912399002", "lon": 105.853, "lat": 21.029},
        {"code": "HN-0099", "phone": RELATIVE, "lon": 105.854, "lat": 21.030},  # their own
    ])
    for code in ("HN-0042", "HN-0043"):
        _sms(twilio_post, f"DK {code}")
        assert "Da dang ky" in (_sms(twilio_post, "CO") or "")
    # The footer of every SMS about HN-0042 says "Soan HUY HN-0042 de ngung".
    ended = _sms(twilio_post, "HUY HN-0042")
    assert ended is not None and "Da ngung" in ended and "HN-0042" in ended
    assert [(r.target, r.status) for r in _subscriptions(engine)] == [
        ("HN-0042", "ended"), ("HN-0043", "active")]
    with engine.connect() as conn:
        own = conn.execute(select(_c.sms_opt_out).where(_c.code == "HN-0099")).scalar_one()
    assert own is False  # a subscription ended, not the number's own notices


def test_a_code_followed_by_a_full_stop_names_the_house(twilio_post, engine, people) -> None:
    _sms(twilio_post, "Đăng ký PD0001.")
    done = _sms(twilio_post, "Co")
    assert done is not None and "HUY PD0001 " in done
    [row] = _subscriptions(engine)
    assert (row.status, row.target, row.customer_id) == ("active", "PD0001", people["PD0001"])


def test_start_with_more_words_opts_back_in_and_subscribes_to_nothing(twilio_post, engine,
                                                                      people) -> None:
    phone = "+84912345003"  # PD0003's number
    for body in ["Start again", "UNSTOP please", "Yes please"]:
        _sms(twilio_post, "STOP", phone)
        reply = _sms(twilio_post, body, phone)
        assert reply is not None and "You will receive power outage texts again" in reply, body
        with engine.connect() as conn:
            opted_out = conn.execute(select(_c.sms_opt_out).where(_c.code == "PD0003")
                                     ).scalar_one()
        assert opted_out is False, body
    assert _subscriptions(engine) == []


def test_co_keeps_to_the_most_subscriptions_per_number(twilio_post, engine, people,
                                                       make_client) -> None:
    client = make_client(OUTAGES_SUBSCRIPTIONS_MAX_PER_CONTACT="1")
    _sms(twilio_post, "DK PD0001", target=client)
    _sms(twilio_post, "DK PD0002", target=client)
    assert "Da dang ky" in (_sms(twilio_post, "CO", target=client) or "")
    full = _sms(twilio_post, "DK PD0003", target=client)  # refused at once when full
    again = _sms(twilio_post, "CO", target=client)  # PD0001's pending request
    assert again is not None and "Da dang ky" not in again and again == full
    assert sorted(r.status for r in _subscriptions(engine)) == ["active", "pending"]
