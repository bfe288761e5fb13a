"""A signed Twilio request acts once however often it arrives, and one number cannot make
the service send more than a few replies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from xml.etree import ElementTree

from sqlalchemy import func, select

from notifier.store import outbox
from outages.models import AuditEntry, Customer, FaultReport
from outages.timeutil import utcnow
from tests.api.test_twilio import _outbox_row

_c = Customer.__table__.c


def _messages(response) -> list[str]:
    """The reply SMS in a TwiML answer (none when the message was not answered)."""
    assert response.status_code == 200, response.text
    return [m.text or "" for m in ElementTree.fromstring(response.text)]


def _reports(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(FaultReport.__table__)).scalar_one()


def _ledger(engine) -> list[tuple[str, str]]:
    from outages.models import TwilioEvent

    with engine.connect() as conn:
        rows = conn.execute(select(TwilioEvent.message_sid, TwilioEvent.event)).all()
    return [tuple(row) for row in rows]


def _opted_out(engine, code: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(_c.sms_opt_out).where(_c.code == code)).scalar_one()


def test_a_replayed_inbound_sms_is_acted_on_once(twilio_post, engine, people) -> None:
    report = {"From": "+84912345003", "Body": "MATDIEN", "MessageSid": "SMreplay1"}
    answers = [_messages(twilio_post("/twilio/inbound", report)) for _ in range(3)]
    assert len(answers[0]) == 1 and "PD0003" in answers[0][0]
    assert answers[1:] == [[], []]
    assert _reports(engine) == 1


def test_concurrent_copies_of_one_sms_act_once(twilio_post, engine, people) -> None:
    report = {"From": "+84912345004", "Body": "Mất điện", "MessageSid": "SMrace"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: _messages(twilio_post("/twilio/inbound", report)),
                                range(6)))
    assert sorted(len(a) for a in answers) == [0, 0, 0, 0, 0, 1]
    assert _reports(engine) == 1


def test_replayed_stop_and_start_do_not_flip_the_opt_out(twilio_post, engine, people) -> None:
    stop = {"From": "+84912345003", "Body": "STOP", "MessageSid": "SMstop"}
    start = {"From": "+84912345003", "Body": "START", "MessageSid": "SMstart"}
    twilio_post("/twilio/inbound", stop)
    twilio_post("/twilio/inbound", start)
    assert not _opted_out(engine, "PD0003")
    assert _messages(twilio_post("/twilio/inbound", stop)) == []
    assert not _opted_out(engine, "PD0003")
    twilio_post("/twilio/inbound", {**stop, "MessageSid": "SMstop2"})
    assert _messages(twilio_post("/twilio/inbound", start)) == []
    assert _opted_out(engine, "PD0003")
    with engine.connect() as conn:
        audited = conn.execute(select(func.count()).select_from(AuditEntry.__table__)
                               .where(AuditEntry.entity_id == "PD0003")).scalar_one()
    assert audited == 3


def test_a_replayed_status_callback_is_recorded_once(twilio_post, engine, people) -> None:
    _outbox_row(engine, people["PD0001"], "SMst", status="sent")
    failed = {"MessageSid": "SMst", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    for _ in range(3):
        assert twilio_post("/twilio/status", failed).status_code == 204
    with engine.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.last_error_code)).one()
    assert _ledger(engine) == [("SMst", "status:undelivered")]
    assert tuple(row) == ("undelivered", "30003")


def test_a_flood_from_one_number_costs_a_few_replies(make_client, twilio_post, engine,
                                                     people, caplog) -> None:
    limited = make_client(OUTAGES_TWILIO_REPLIES_PER_HOUR="2")
    answers = [_messages(twilio_post("/twilio/inbound",
                                     {"From": "+84912345003", "Body": "MATDIEN"},
                                     target=limited))
               for _ in range(30)]
    assert [len(a) for a in answers] == [1, 1, 1] + [0] * 27  # the third: no more replies
    other = twilio_post("/twilio/inbound", {"From": "+84912345002", "Body": "HELP"},
                        target=limited)
    assert len(_messages(other)) == 1


def test_a_reporter_past_the_reply_limit_is_told_once_and_still_heard(
        make_client, twilio_post, engine, people, time_machine) -> None:
    """Fault reports past twilio.replies_per_hour are recorded, and the number hears once
    that no more answers are coming this hour, rather than nothing at all."""
    time_machine.move_to(utcnow(), tick=False)
    limited = make_client(OUTAGES_TWILIO_REPLIES_PER_HOUR="2")
    send = lambda body: _messages(twilio_post(  # noqa: E731
        "/twilio/inbound", {"From": "+84912345003", "Body": body}, target=limited))
    answers = [send(body) for body in ("MATDIEN", "HELP", "MATDIEN", "MATDIEN", "HELP")]
    assert [len(a) for a in answers] == [1, 1, 1, 0, 0]
    assert "will not reply to more texts" in answers[2][0] and "1900" in answers[2][0], answers[2]
    with engine.connect() as conn:
        reported = conn.execute(select(func.max(FaultReport.reports))).scalar_one()
    assert reported == 3  # every report recorded, answered or not
    time_machine.shift(timedelta(minutes=30))
    assert send("MATDIEN") == []  # told once per hour, not once per message
    assert send("STOP") == []


def test_beyond_the_inbound_limit_only_stop_is_acted_on(make_client, twilio_post, engine,
                                                        people, caplog) -> None:
    limited = make_client(OUTAGES_TWILIO_INBOUND_PER_HOUR="4")
    answered = [_messages(twilio_post("/twilio/inbound",
                                      {"From": "+84912345003", "Body": body},
                                      target=limited))
                for body in ["STOP", "START"] * 5]
    assert [len(a) for a in answered] == [1, 1, 1, 1, 1, 0, 1, 0, 1, 0]
    assert _opted_out(engine, "PD0003")
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action).where(AuditEntry.entity_id == "PD0003")
                               .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["customer.sms_opt_out", "customer.sms_opt_in"] * 2 + [
        "customer.sms_opt_out"]
    assert caplog.text.count("more than 4 SMS from +84912345003") == 1


def test_the_limits_are_per_rolling_hour(make_client, twilio_post, engine, people,
                                         time_machine) -> None:
    time_machine.move_to(utcnow(), tick=False)
    limited = make_client(OUTAGES_TWILIO_REPLIES_PER_HOUR="1")
    send = lambda: _messages(twilio_post(  # noqa: E731
        "/twilio/inbound", {"From": "+84912345002", "Body": "HELP"}, target=limited))
    assert [len(send()), len(send()), len(send())] == [1, 1, 0]  # an answer, the last word
    time_machine.shift(timedelta(minutes=61))
    assert len(send()) == 1


def test_old_webhooks_are_forgotten(make_client, twilio_post, engine, people,
                                    time_machine) -> None:
    time_machine.move_to(utcnow(), tick=False)
    short = make_client(OUTAGES_TWILIO_REMEMBER_WEBHOOKS="2d")
    twilio_post("/twilio/inbound", {"From": "+84912345002", "Body": "HELP",
                                    "MessageSid": "SMold"}, target=short)
    time_machine.shift(timedelta(days=3))
    twilio_post("/twilio/inbound", {"From": "+84912345002", "Body": "HELP",
                                    "MessageSid": "SMnew"}, target=short)
    assert _ledger(engine) == [("SMnew", "inbound")]


def test_inbound_without_message_sid_is_422(client, engine, people) -> None:
    from tests.api.conftest import BASE, sign

    params = {"From": "+84912345002", "Body": "HELP"}
    response = client.post("/twilio/inbound", data=params,
                           headers={"X-Twilio-Signature": sign(BASE + "/twilio/inbound",
                                                               params)})
    assert response.status_code == 422 and response.json()["field"] == "MessageSid"
