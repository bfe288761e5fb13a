from __future__ import annotations

import logging
from datetime import timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update

from notifier import gsm
from notifier.store import outbox
from outages.models import AuditEntry, Customer, FaultReport, SmsOptOut
from outages.timeutil import utcnow
from tests.api.conftest import BASE, add_outage, sign

_c = Customer.__table__.c
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _outbox_row(engine, customer_id: int, sid: str, status: str = "sent") -> None:
    with engine.begin() as conn:
        conn.execute(insert(outbox).values(
            key=f"k-{sid}", outage_id=None, customer_id=customer_id, kind="announce",
            channel="sms", recipient="+84912345001", language="vi", due_at=utcnow(),
            status=status, provider_id=sid))


def _status(engine, sid: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.last_error_code)
                           .where(outbox.c.provider_id == sid)).one()
    return row.status, row.last_error_code


def _flags(engine, code: str) -> tuple[bool, bool]:
    with engine.connect() as conn:
        row = conn.execute(select(_c.sms_opt_out, _c.phone_invalid).where(_c.code == code)).one()
    return row.sms_opt_out, row.phone_invalid


def test_status_callbacks_only_move_forward(twilio_post, engine, people) -> None:
    _outbox_row(engine, people["PD0001"], "SM1")
    for status, expected in [("sending", "sent"), ("delivered", "delivered"),
                             ("sent", "delivered"), ("failed", "delivered"),
                             ("delivered", "delivered")]:
        response = twilio_post("/twilio/status", {"MessageSid": "SM1", "MessageStatus": status})
        assert response.status_code == 204
        assert _status(engine, "SM1")[0] == expected
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.delivered_at)).scalar() is not None


def test_unknown_message_ids_are_harmless(twilio_post, engine, people, caplog) -> None:
    caplog.set_level(logging.INFO, logger="outages.notices.callbacks")
    response = twilio_post("/twilio/status", {"MessageSid": "SMnope", "MessageStatus": "sent"})
    assert response.status_code == 204
    assert "unknown message SMnope kept" in caplog.text
    # A structured log line carries the id as a field of its own.
    [record] = [r for r in caplog.records if "SMnope" in r.getMessage()]
    assert record.provider_message_id == "SMnope"  # type: ignore[attr-defined]


def test_permanent_errors_mark_the_customer(twilio_post, engine, people) -> None:
    cases = {"PD0001": ("21610", (True, False)), "PD0002": ("21211", (False, True)),
             "PD0003": ("21614", (False, True)), "PD0004": ("30003", (False, False))}
    for code, (error, _flags_after) in cases.items():
        _outbox_row(engine, people[code], f"SM{code}")
        response = twilio_post("/twilio/status", {"MessageSid": f"SM{code}",
                                                  "MessageStatus": "undelivered",
                                                  "ErrorCode": error})
        assert response.status_code == 204
        assert _status(engine, f"SM{code}") == ("undelivered", error)
    assert {code: _flags(engine, code) for code in cases} == {
        code: flags for code, (_error, flags) in cases.items()}
    assert _flags(engine, "PD0005") == (False, False)


def test_missing_or_wrong_signature_is_403_and_changes_nothing(twilio_post, engine,
                                                               people) -> None:
    _outbox_row(engine, people["PD0001"], "SM2")
    params = {"MessageSid": "SM2", "MessageStatus": "delivered"}
    assert twilio_post("/twilio/status", params, signature="").status_code == 403
    assert twilio_post("/twilio/status", params, signature="bm90IGl0").status_code == 403
    # Signed with another token.
    forged = sign(BASE + "/twilio/status", params, token="someone-else")
    assert twilio_post("/twilio/status", params, signature=forged).status_code == 403
    # Signed for other parameters.
    other = sign(BASE + "/twilio/status", {**params, "MessageStatus": "sent"})
    assert twilio_post("/twilio/status", params, signature=other).status_code == 403
    stop = {"From": "+84912345003", "Body": "STOP"}
    assert twilio_post("/twilio/inbound", stop, signature="").status_code == 403
    assert _status(engine, "SM2")[0] == "sent"
    assert _flags(engine, "PD0003") == (False, False)


def test_a_request_replayed_to_another_url_is_refused(twilio_post, engine, people) -> None:
    _outbox_row(engine, people["PD0001"], "SM3")
    params = {"MessageSid": "SM3", "MessageStatus": "delivered"}
    signed_for_inbound = sign(BASE + "/twilio/inbound", params)
    assert twilio_post("/twilio/status", params, signature=signed_for_inbound).status_code == 403
    signed_with_query = sign(BASE + "/twilio/status?x=1", params)
    assert twilio_post("/twilio/status", params, signature=signed_with_query).status_code == 403
    assert _status(engine, "SM3")[0] == "sent"


def test_signature_is_checked_against_the_public_url_behind_a_proxy(
        make_client, twilio_post, engine, people) -> None:
    behind = make_client(OUTAGES_HTTP_PUBLIC_BASE_URL="https://outages.example.vn/")
    _outbox_row(engine, people["PD0001"], "SM4")
    params = {"MessageSid": "SM4", "MessageStatus": "delivered"}
    internal = twilio_post("/twilio/status", params, target=behind)
    assert internal.status_code == 403
    public = twilio_post("/twilio/status", params, target=behind,
                         signed_url="https://outages.example.vn/twilio/status")
    assert public.status_code == 204 and _status(engine, "SM4")[0] == "delivered"


def test_without_an_auth_token_every_webhook_is_refused(make_client, twilio_post) -> None:
    unconfigured = make_client(OUTAGES_TWILIO_AUTH_TOKEN="")
    params = {"From": "+84912345003", "Body": "HELP"}
    assert twilio_post("/twilio/inbound", params, target=unconfigured).status_code == 403


def _reply(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response" and [m.tag for m in root] == ["Message"]
    return root[0].text or ""


def _reset_opt_out(engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(Customer.__table__).values(sms_opt_out=False))
        conn.execute(delete(SmsOptOut.__table__))
        conn.execute(delete(AuditEntry.__table__))


def test_stop_keywords_opt_every_account_of_the_phone_out(twilio_post, engine, people) -> None:
    for body in ["STOP", " stop ", "Hủy", "HUY", "unsubscribe", "Quit", "stopall", "END"]:
        reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001", "Body": body}))
        assert "da huy nhan tin" in reply and "DK" in reply, body
        assert _flags(engine, "PD0001")[0] and _flags(engine, "PD0005")[0], body
        assert not _flags(engine, "PD0002")[0]
        with engine.connect() as conn:
            audited = conn.execute(select(AuditEntry.__table__.c.entity_id,
                                          AuditEntry.__table__.c.source)).all()
        # The accounts, and the number itself (texts to it without an account stop too).
        assert sorted(audited) == [("+84912345001", "webhook"), ("PD0001", "webhook"),
                                   ("PD0005", "webhook")]
        _reset_opt_out(engine)


def test_start_keywords_opt_back_in(twilio_post, engine, people) -> None:
    for body in ["START", "dk", "Đăng ký", "yes", "UNSTOP"]:
        twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": "STOP"})
        assert _flags(engine, "PD0003")[0]
        reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": body}))
        # PD0003 prefers English.
        assert "You will receive power outage texts again" in reply, body
        assert not _flags(engine, "PD0003")[0], body


def test_help_gives_the_hotline_in_the_customers_language(twilio_post, people) -> None:
    vi = _reply(twilio_post("/twilio/inbound", {"From": "+84912345002", "Body": "help"}))
    en = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": "HELP"}))
    unknown_number = _reply(twilio_post("/twilio/inbound", {"From": "+84999", "Body": "?"}))
    assert "Hotline 1900 6769" in vi and "Soan TINHTRANG" in vi
    assert "Text STATUS" in en and "1900 6769" in en
    # How to follow a relative's home (a subscription) is part of the help.
    assert "DK [ma KH] theo doi nha nguoi than" in vi
    assert "SUB [account code] to follow a relative's home" in en
    assert "Soan TINHTRANG" in unknown_number  # default language vi


def test_status_answers_with_current_outages_and_etr(twilio_post, engine, people) -> None:
    etr = utcnow().replace(microsecond=0) + timedelta(hours=3)
    add_outage(engine, customers=[people["PD0003"], people["PD0004"]], kind="fault",
               status="confirmed", start=utcnow() - timedelta(hours=1), etr=etr,
               area_name="Doi Can")
    add_outage(engine, customers=[people["PD0003"]], status="cancelled", area_name="Gone")
    add_outage(engine, customers=[people["PD0004"]], status="in_progress",
               start=utcnow() - timedelta(hours=1), restored=[people["PD0004"]],
               area_name="Restored")
    local_etr = etr.astimezone(HANOI)
    today = local_etr.date() == utcnow().astimezone(HANOI).date()  # three hours from now
    en = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": "status"}))
    assert "Account PD0003 (Doi Can)" in en
    assert f"expected back {local_etr:%H:%M} {'today' if today else 'tomorrow'}." in en
    assert "Gone" not in en
    vi = _reply(twilio_post("/twilio/inbound", {"From": "+84912345004", "Body": "Tình trạng"}))
    assert "KH PD0004 (Doi Can)" in vi
    assert f"co dien lai {local_etr:%H:%M} {'hom nay' if today else 'ngay mai'}." in vi
    assert "Restored" not in vi
    none = _reply(twilio_post("/twilio/inbound", {"From": "+84912345002", "Body": "TINHTRANG"}))
    assert "Hien khong co lich cat dien" in none


def test_status_reply_with_vietnamese_place_names_stays_gsm7(twilio_post, engine,
                                                            people) -> None:
    add_outage(engine, customers=[people["PD0004"]], kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), etr=utcnow() + timedelta(hours=2),
               area_name="Phường Đội Cấn – “ngõ 5”")
    vi = _reply(twilio_post("/twilio/inbound", {"From": "+84912345004", "Body": "Tình trạng"}))
    assert 'KH PD0004 (Phuong Doi Can - "ngo 5")' in vi
    # One diacritic would make it UCS-2: 70 characters a segment instead of 160.
    assert gsm.measure(vi).encoding == "GSM-7"


def test_status_reply_is_gsm7_even_where_notices_keep_diacritics(
        make_client, twilio_post, engine, people) -> None:
    accented = make_client(OUTAGES_NOTICES_SMS_ASCII="false")
    add_outage(engine, customers=[people["PD0004"]], kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), etr=utcnow() + timedelta(hours=2),
               area_name="Phường Đội Cấn")
    vi = _reply(twilio_post("/twilio/inbound", {"From": "+84912345004", "Body": "TINHTRANG"},
                            target=accented))
    assert "KH PD0004 (Phuong Doi Can)" in vi
    assert gsm.measure(vi).encoding == "GSM-7"


def test_status_reply_words_planned_times_like_notices(twilio_post, engine, people) -> None:
    start = (utcnow() + timedelta(days=3)).astimezone(HANOI).replace(
        hour=8, minute=0, second=0, microsecond=0)
    add_outage(engine, customers=[people["PD0003"], people["PD0004"]], status="scheduled",
               start=start, hours=9, area_name="Doi Can")
    en = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": "STATUS"}))
    vi = _reply(twilio_post("/twilio/inbound", {"From": "+84912345004", "Body": "TINHTRANG"}))
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")[start.month - 1]
    year = "" if start.year == utcnow().astimezone(HANOI).year else start.year
    assert f"planned cut from {start.day} {month}{year and f' {year}'} 08:00 to 17:00." in en
    assert f"cat dien theo ke hoach tu 08:00 ngay {start:%d/%m}{year and f'/{year}'} den 17:00." \
        in vi


def test_fault_report_by_sms(twilio_post, engine, people) -> None:
    single = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": "matdien"}))
    assert "We received your report of no power for account PD0003" in single
    spaced = _reply(twilio_post("/twilio/inbound", {"From": "+84912345004",
                                                    "Body": "Mất điện"}))
    assert "Da tiep nhan bao mat dien cua KH PD0004" in spaced
    # Two accounts on one phone: ask which, listing them; then accept the code.
    ask = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001", "Body": "MAT DIEN"}))
    assert "MATDIEN <ma KH>" in ask and "PD0001, PD0005" in ask
    wrong = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001",
                                                   "Body": "MATDIEN PD0003"}))
    assert "Ma PD0003 khong thuoc so dien thoai nay" in wrong
    chosen = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001",
                                                    "Body": "mat dien pd0005"}))
    assert "KH PD0005" in chosen
    stranger = _reply(twilio_post("/twilio/inbound", {"From": "+84900000000",
                                                      "Body": "MATDIEN"}))
    assert "chua gan voi ma khach hang nao" in stranger
    _assert_reports_recorded(engine, people)


def _assert_reports_recorded(engine, people) -> None:
    """Each accepted SMS report is filed through the lifecycle: grouped into incidents by
    distance (PD0003 and PD0004 are 150 m apart, PD0005 is 4 km away) and audited."""
    r = FaultReport.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(r.customer_id, r.outage_id, r.source, r.text)).all()
        actions = conn.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.source)
                               .where(AuditEntry.action == "fault.reported")).all()
    by_customer = {row.customer_id: row for row in rows}
    assert set(by_customer) == {people["PD0003"], people["PD0004"], people["PD0005"]}
    assert {row.source for row in rows} == {"sms"}
    assert by_customer[people["PD0003"]].outage_id == by_customer[people["PD0004"]].outage_id
    assert by_customer[people["PD0005"]].outage_id != by_customer[people["PD0003"]].outage_id
    assert by_customer[people["PD0004"]].text == "Mất điện"
    assert sorted(actions) == [("fault.reported", "sms", "webhook")] * 3


def test_a_report_with_words_after_the_keyword_is_filed_for_the_only_account(
        twilio_post, engine, people) -> None:
    """One account on the phone: the words after MATDIEN are the customer's, not a code to
    ask about; another customer's code still gets the answer that it is not theirs."""
    filed = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003",
                                                   "Body": "MATDIEN tu 8h sang"}))
    assert "PD0003" in filed and "khong thuoc" not in filed
    other = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003",
                                                   "Body": "MATDIEN PD0004"}))
    assert "PD0004" in other and "PD0003" in other
    r = FaultReport.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(r.customer_id, r.text)).all()
    assert [(row.customer_id, row.text) for row in rows] == [
        (people["PD0003"], "MATDIEN tu 8h sang")]


def test_inbound_without_sender_is_422(twilio_post) -> None:
    response = twilio_post("/twilio/inbound", {"Body": "STOP"})
    assert response.status_code == 422 and response.json()["field"] == "From"


def test_keywords_are_read_through_punctuation(twilio_post, engine, people) -> None:
    for body in ["Stop.", "STOP!", "  stop . ", "\u201cStop\u201d", "Hủy!"]:
        reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001", "Body": body}))
        assert "da huy nhan tin" in reply, body
        assert _flags(engine, "PD0001")[0], body
        _reset_opt_out(engine)
    fault = _reply(twilio_post("/twilio/inbound", {"From": "+84912345004",
                                                   "Body": "Mất điện!!!"}))
    assert "Da tiep nhan bao mat dien cua KH PD0004" in fault
    chosen = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001",
                                                    "Body": "matdien: PD0005."}))
    assert "KH PD0005" in chosen


def test_an_account_code_with_punctuation_is_found(twilio_post, add_customers, engine) -> None:
    add_customers([{"code": code, "phone": "+84912345099", "lon": 105.85, "lat": 21.03,
                    "district": "Hoan Kiem", "language": "en"} for code in ("HN-0042", "HN-0043")])
    reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345099",
                                                   "Body": "matdien hn-0043"}))
    assert "account HN-0043" in reply


def test_a_reply_quotes_only_a_few_words_of_the_message(twilio_post, people) -> None:
    # A two-account phone is asked which account; the reply names what was given.
    for body in ["MATDIEN " + "\U0001f600" * 800, "MATDIEN " + "PD0009 khong co dien " * 60]:
        reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345001", "Body": body}))
        assert gsm.measure(reply).encoding == "GSM-7" and gsm.measure(reply).segments <= 2
        assert "\U0001f600" not in reply and reply.count("PD0009") <= 1


def test_an_sms_report_with_control_characters_is_kept_without_them(twilio_post, engine,
                                                                     people) -> None:
    body = "MATDIEN\x00 PD\u202e0003\x07"
    reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": body}))
    assert "PD0003" in reply
    r = FaultReport.__table__.c
    with engine.connect() as conn:
        [text] = conn.execute(select(r.text)).scalars().all()
    assert text == "MATDIEN PD0003"


def test_an_sms_reported_failed_after_it_was_accepted_goes_by_email(
        make_client, twilio_post, engine, people) -> None:
    from outages.lifecycle.events import OutageEvent, publish
    from tests.api.conftest import square

    client = make_client(OUTAGES_NOTICES_CHANNELS="sms")
    settings = client.app.state.settings
    customer = people["PD0002"]  # with a phone and an email address
    fault = add_outage(engine, customers=[customer], kind="fault", status="confirmed",
                       start=utcnow() - timedelta(minutes=30), area=square(105.853, 21.029))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", fault, 1, utcnow()))
        # Twilio took the acknowledgement, then reported that the customer had sent STOP.
        conn.execute(update(outbox).where(outbox.c.customer_id == customer)
                     .values(status="sent", provider_id="SMack1", sent_at=utcnow()))
    response = twilio_post("/twilio/status", {"MessageSid": "SMack1", "MessageStatus": "failed",
                                              "ErrorCode": "21610"}, target=client)
    assert response.status_code == 204
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.kind, outbox.c.channel, outbox.c.status,
                                   outbox.c.recipient)
                            .where(outbox.c.customer_id == customer).order_by(outbox.c.id)).all()
        audited = conn.execute(select(AuditEntry.__table__.c.source)
                               .where(AuditEntry.__table__.c.entity_id == "PD0002")).all()
    assert _flags(engine, "PD0002") == (True, False)
    assert [tuple(r) for r in rows] == [("fault_ack", "sms", "failed", "+84912345002"),
                                        ("fault_ack", "email", "pending", "pd0002@example.vn")]
    assert [a.source for a in audited] == ["webhook"]
    # The same report again changes nothing more.
    twilio_post("/twilio/status", {"MessageSid": "SMack1", "MessageStatus": "failed",
                                   "ErrorCode": "21610"}, target=client)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == 2


def test_a_report_texted_in_is_acknowledged_by_the_reply_alone(twilio_post, engine, people,
                                                              settings) -> None:
    from outages.lifecycle import fault_reports

    reply = _reply(twilio_post("/twilio/inbound", {"From": "+84912345003", "Body": "matdien"}))
    assert "We received your report" in reply
    with engine.connect() as conn:
        texted = conn.execute(select(outbox.c.kind, outbox.c.channel)
                              .where(outbox.c.customer_id == people["PD0003"])).all()
    assert texted == []  # not a second "we received your report" by SMS or email
    # The same report taken by the call centre is acknowledged by a notice.
    with engine.begin() as conn:
        fault_reports.record(conn, settings, actor="desk", source="cli", customer="PD0004",
                             channel="call")
    with engine.connect() as conn:
        called = conn.execute(select(outbox.c.kind)
                              .where(outbox.c.customer_id == people["PD0004"])).scalars().all()
    assert called and set(called) == {"fault_report_received"}
