"""The subscription pages over HTTP: double opt-in with a code sent through the outbox, the
same answer for any customer code, attempts, expiry, resend and the limits; the stop link of
a subscriber's email; the staff API."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from notifier.store import outbox
from outages.models import AuditEntry, Subscription
from outages.notices import delivery
from outages.timeutil import utcnow
from tests.api.conftest import BASE
from tests.support.smtp_server import SmtpServer

_s = Subscription.__table__.c
PHONE = "0987 000 001"  # as people type it
E164 = "+84987000001"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def _ask(client: TestClient, target: str, contact: str = PHONE, *, kind: str = "customer",
         lang: str = "vi", language: str = "vi") -> Any:
    return client.post("/subscribe", data={"lang": lang, "kind": kind, "target": target,
                                           "contact": contact, "language": language})


def _token(page: Any) -> str:
    found = re.search(r'name="request" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _codes(engine: Engine, recipient: str = E164) -> list[str]:
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(
            outbox.c.recipient == recipient, outbox.c.kind == "subscription_code")
            .order_by(outbox.c.id)).scalars().all()
    return [re.search(r"\b(\d{6})\b", body).group(1) for body in bodies]  # type: ignore[union-attr]


def _subscriptions(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Subscription.__table__).order_by(_s.id)))


def _confirm(client: TestClient, token: str, code: str) -> Any:
    return client.post("/subscribe/confirm", data={"request": token, "code": code, "lang": "vi"})


def test_page_flow_sends_a_code_through_the_outbox_and_confirms(
    client: TestClient, engine: Engine, people: dict[str, int],
) -> None:
    form = client.get("/subscribe")
    assert form.status_code == 200 and 'action="/subscribe"' in form.text
    assert "Hoan Kiem" in form.text  # the districts offered
    page = _ask(client, "pd0001")
    assert page.status_code == 200 and "+8498*****01" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    token = _token(page)
    [code] = _codes(engine)
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.kind == "subscription_code")).one()
    assert (row.channel, row.urgent, row.status, row.customer_id) == ("sms", True, "pending", None)
    assert "PD0001" in row.body and "10 phut" in row.body
    [pending] = _subscriptions(engine)
    assert pending.status == "pending" and pending.customer_id == people["PD0001"]
    assert code not in (pending.code_hash or "") and token not in (pending.request_hash or "")
    assert len(pending.code_hash) == 64

    wrong = _confirm(client, token, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "Mã không đúng" in wrong.text and " 4</p>" in wrong.text
    done = _confirm(client, token, code)
    assert done.status_code == 200 and 'id="done"' in done.text
    [active] = _subscriptions(engine)
    assert (active.status, active.contact, active.target, active.language) == \
        ("active", E164, "PD0001", "vi")
    assert active.code_hash is None and active.request_hash is None
    assert _confirm(client, token, code).status_code == 404  # used once
    with engine.connect() as conn:
        [entry] = conn.execute(select(AuditEntry.__table__)).all()
    assert (entry.action, entry.actor, entry.source) == ("subscription.confirm", "subscriber",
                                                         "http")
    assert E164 not in str(entry.after)


def test_an_unknown_code_gets_the_same_answer_as_a_known_one(
    client: TestClient, engine: Engine, people: dict[str, int],
) -> None:
    known = _ask(client, "PD0002", "0987000002")
    unknown = _ask(client, "ZZ9999", "0987000003")

    def shape(page: Any) -> str:
        text = re.sub(r'name="request" value="[^"]+"', "", page.text)
        return re.sub(r"\+8498\*+0\d", "", text)

    assert known.status_code == unknown.status_code == 200
    assert shape(known) == shape(unknown)
    assert len(_codes(engine, "+84987000003")) == 1  # a code is sent regardless
    token = _token(unknown)
    assert _confirm(client, token, _codes(engine, "+84987000003")[0]).status_code == 200
    row = _subscriptions(engine)[-1]
    assert (row.status, row.target, row.customer_id) == ("active", "ZZ9999", None)


def test_five_wrong_codes_void_the_request_and_codes_expire(
    client: TestClient, engine: Engine, people: dict[str, int],
) -> None:
    token = _token(_ask(client, "PD0001"))
    [code] = _codes(engine)
    other = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        assert _confirm(client, token, other).status_code == 422
    assert _confirm(client, token, other).status_code == 404
    assert _confirm(client, token, code).status_code == 404  # too late, even when right
    assert _subscriptions(engine)[0].status == "pending"
    with time_machine.travel(utcnow() + timedelta(seconds=61)):  # nor revived by a new code
        again = client.post("/subscribe/resend", data={"request": token, "lang": "en"})
    assert again.status_code == 404, again.text
    assert len(_codes(engine)) == 1

    token = _token(_ask(client, "PD0002"))
    code = _codes(engine)[-1]
    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        late = _confirm(client, token, code)
    assert late.status_code == 422 and "hết hạn" in late.text


def test_resend_waits_and_a_new_code_replaces_the_old(
    client: TestClient, engine: Engine, people: dict[str, int],
) -> None:
    token = _token(_ask(client, "PD0001"))
    soon = client.post("/subscribe/resend", data={"request": token, "lang": "en"})
    assert soon.status_code == 200 and "Please wait" in soon.text
    assert len(_codes(engine)) == 1
    with time_machine.travel(utcnow() + timedelta(seconds=61)):
        again = client.post("/subscribe/resend", data={"request": token, "lang": "en"})
        assert again.status_code == 200 and "A new code was sent" in again.text
        first, second = _codes(engine)
        if first != second:
            assert _confirm(client, token, first).status_code == 422
        assert _confirm(client, token, second).status_code == 200


def test_limits_per_contact_and_per_client_address(
    make_client: Callable[..., TestClient], engine: Engine, people: dict[str, int],
) -> None:
    client = make_client(OUTAGES_SUBSCRIPTIONS_REQUESTS_PER_CLIENT_PER_HOUR="6")
    answers = [_ask(client, f"X{i}").status_code for i in range(4)]
    assert answers == [200, 200, 200, 429]  # codes_per_contact_per_hour = 3
    assert len(_codes(engine)) == 3
    assert "Quá nhiều yêu cầu" in _ask(client, "X9").text  # 5th request of this address
    assert _ask(client, "X9", "0987000009").status_code == 200  # 6th
    blocked = _ask(client, "X9", "0987000010")
    assert blocked.status_code == 429 and len(_codes(engine, "+84987000010")) == 0


def test_the_total_of_codes_per_hour_caps_pumping_to_many_numbers(
    make_client: Callable[..., TestClient], engine: Engine,
) -> None:
    client = make_client(OUTAGES_SUBSCRIPTIONS_CODES_PER_HOUR="5",
                         OUTAGES_SUBSCRIPTIONS_REQUESTS_PER_CLIENT_PER_HOUR="100")
    answers = [_ask(client, "PD0001", f"09870001{i:02d}").status_code for i in range(12)]
    assert answers.count(200) == 5 and answers.count(429) == 7
    with engine.connect() as conn:
        sent = conn.execute(select(outbox.c.id).where(outbox.c.kind == "subscription_code"))
        assert len(sent.all()) == 5


def test_bad_input_names_the_field_and_writes_nothing(client: TestClient, engine: Engine,
                                                     people: dict[str, int]) -> None:
    bad_phone = _ask(client, "PD0001", "12")
    assert bad_phone.status_code == 422 and "Số điện thoại hoặc địa chỉ email" in bad_phone.text
    assert 'value="PD0001"' in bad_phone.text  # the form keeps what was typed
    assert _ask(client, "Atlantis", kind="district").status_code == 422
    assert _ask(client, "<script>", kind="customer").status_code == 422
    assert _subscriptions(engine) == []


def _smtp_env(smtp: SmtpServer) -> dict[str, str]:
    return {"OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(smtp.port),
            "OUTAGES_SMTP_FROM": "notices@utility.test", "OUTAGES_SMTP_STARTTLS": "false",
            "OUTAGES_NOTICES_QUIET_HOURS": "", "OUTAGES_NOTICES_CONSOLE_PATH": "/dev/null",
            "OUTAGES_HTTP_PUBLIC_BASE_URL": BASE,
            "OUTAGES_HTTP_LINK_SECRET": "a-long-random-test-secret"}


def test_email_subscription_by_the_worker_and_its_stop_link(
    make_client: Callable[..., TestClient], engine: Engine, smtp: SmtpServer,
    people: dict[str, int],
) -> None:
    from outages.lifecycle.events import OutageEvent, publish
    from tests.notices import helpers as h

    client = make_client(**_smtp_env(smtp))
    settings = client.app.state.settings  # type: ignore[attr-defined]
    token = _token(_ask(client, "Hoan Kiem", "Son@Example.test", kind="district",
                        language="en"))
    dispatcher = delivery.dispatcher(engine, settings, concurrency=1)
    try:
        dispatcher.run_once()
        [mail] = smtp.messages
        assert mail["To"] == "son@example.test" and "List-Unsubscribe" not in mail
        code = re.search(r"\b(\d{6})\b", mail["Subject"]).group(1)  # type: ignore[union-attr]
        assert _confirm(client, token, code).status_code == 200
        start = utcnow() + timedelta(days=6)
        members = [people[c] for c in ("PD0001", "PD0002")]
        outage = h.add_outage(engine, start=start, end=start + timedelta(hours=2),
                              members=members)
        with engine.begin() as conn:
            publish(conn, settings, OutageEvent("cut_created", outage, 1, utcnow()))
        dispatcher.run_once()
    finally:
        dispatcher.close()
    # Two houses in Hoan Kiem: fewer than public.min_count, the district hears nothing.
    assert [m["To"] for m in smtp.messages].count("son@example.test") == 1
    with engine.connect() as conn:
        subscription_id = conn.execute(select(_s.id).where(_s.status == "active")).scalar_one()
    assert subscription_id


def test_a_subscriber_email_carries_a_stop_link_that_ends_only_it(
    make_client: Callable[..., TestClient], engine: Engine, smtp: SmtpServer,
    add_customers: Callable[..., None],
) -> None:
    from outages.lifecycle.events import OutageEvent, publish
    from tests.notices import helpers as h

    client = make_client(**_smtp_env(smtp), OUTAGES_PUBLIC_MIN_COUNT="1")
    settings = client.app.state.settings  # type: ignore[attr-defined]
    add_customers(h.customers(2, district="Dong Da"))
    tokens = [_token(_ask(client, "C0000001", address, language="vi"))
              for address in ("a@example.test", "b@example.test")]
    for token, address in zip(tokens, ("a@example.test", "b@example.test"), strict=True):
        with engine.connect() as conn:
            body = conn.execute(select(outbox.c.body).where(
                outbox.c.recipient == address)).scalar_one()
        code = re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]
        assert _confirm(client, token, code).status_code == 200
    start = utcnow() + timedelta(days=6)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=2),
                          members=h.customer_ids(engine))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, utcnow()))
    dispatcher = delivery.dispatcher(engine, settings, concurrency=1)
    try:
        dispatcher.run_once()
    finally:
        dispatcher.close()
    notices = {m["To"]: m for m in smtp.messages if "List-Unsubscribe" in m}
    assert set(notices) == {"a@example.test", "b@example.test"}
    link = notices["a@example.test"]["List-Unsubscribe"].strip("<>")
    assert re.fullmatch(re.escape(BASE) + r"/subscribe/stop/\d+\.[A-Za-z0-9_-]{43}", link)
    assert link in notices["a@example.test"].get_body(("plain",)).get_content()
    path = link.removeprefix(BASE)
    ask = client.get(path)
    assert ask.status_code == 200 and 'id="stop"' in ask.text
    forged = re.sub(r"/(\d+)\.", lambda m: f"/{int(m[1]) + 1}.", path)
    assert client.post(forged).status_code == 404
    assert client.post(path).status_code == 200
    status = {r.contact: r.status for r in _subscriptions(engine)}
    assert status == {"a@example.test": "ended", "b@example.test": "active"}
    assert 'id="stopped"' in client.get(path).text


def test_staff_api_lists_masked_for_roles_without_personal_data_and_removes(
    client: TestClient, engine: Engine, headers: dict[str, dict[str, str]],
    people: dict[str, int],
) -> None:
    token = _token(_ask(client, "PD0001"))
    assert _confirm(client, token, _codes(engine)[0]).status_code == 200
    assert client.get("/subscriptions").status_code == 401
    admin = client.get("/subscriptions", headers=headers["admin"]).json()
    viewer = client.get("/subscriptions", headers=headers["viewer"]).json()
    assert [s["contact"] for s in admin] == [E164]
    assert [s["contact"] for s in viewer] == ["+8498*****01"]
    assert admin[0]["target"] == "PD0001" and admin[0]["matched"] is True
    assert admin[0]["confirmed_at"].endswith("+07:00")
    assert client.get("/subscriptions?customer=PD0002", headers=headers["admin"]).json() == []
    sid = admin[0]["id"]
    assert client.post(f"/subscriptions/{sid}/remove",
                       headers=headers["viewer"]).status_code == 403
    removed = client.post(f"/subscriptions/{sid}/remove", headers=headers["dispatcher"])
    assert removed.status_code == 200 and removed.json()["status"] == "ended"
    assert client.post(f"/subscriptions/{sid}/remove",
                       headers=headers["dispatcher"]).status_code == 404
    assert client.get("/subscriptions", headers=headers["admin"]).json() == []
    ended = client.get("/subscriptions?ended=true", headers=headers["admin"]).json()
    assert [s["status"] for s in ended] == ["ended"]
    with engine.connect() as conn:
        actions = [(a.action, a.actor) for a in conn.execute(select(AuditEntry.__table__))]
    assert ("subscription.end", "dispatcher") in actions


def test_the_worker_texts_the_code_and_skips_one_whose_request_expired(
    make_client: Callable[..., TestClient], engine: Engine, people: dict[str, int],
) -> None:
    from tests.notices.conftest import TWILIO_SID
    from tests.support.twilio_server import TwilioServer

    twilio = TwilioServer().start()
    try:
        client = make_client(OUTAGES_TWILIO_ACCOUNT_SID=TWILIO_SID,
                             OUTAGES_TWILIO_FROM_NUMBER="+15005550006",
                             OUTAGES_TWILIO_API_URL=twilio.url, OUTAGES_RETRY_BASE_DELAY="0s",
                             OUTAGES_NOTICES_QUIET_HOURS="")
        settings = client.app.state.settings  # type: ignore[attr-defined]
        _token(_ask(client, "PD0001"))
        late = _token(_ask(client, "PD0002", "0987000002"))
        assert late
        dispatcher = delivery.dispatcher(engine, settings, concurrency=1)
        try:
            with engine.begin() as conn:  # the second request's code is already stale
                conn.execute(Subscription.__table__.update()
                             .where(_s.contact == "+84987000002")
                             .values(code_expires_at=utcnow() - timedelta(seconds=1)))
            dispatcher.drain()
        finally:
            dispatcher.close()
        [body] = twilio.bodies_to(E164)
        assert _codes(engine)[0] in body and "PD0001" in body
        assert twilio.bodies_to("+84987000002") == []
        with engine.connect() as conn:
            skipped = conn.execute(select(outbox.c.last_error_code).where(
                outbox.c.recipient == "+84987000002")).scalar_one()
        assert skipped == "code_void"
    finally:
        twilio.stop()


def test_requests_never_confirmed_are_dropped_a_day_later(
    client: TestClient, engine: Engine, people: dict[str, int],
) -> None:
    _ask(client, "PD0001")
    assert [r.status for r in _subscriptions(engine)] == ["pending"]
    with time_machine.travel(utcnow() + timedelta(hours=25)):
        token = _token(_ask(client, "PD0002"))
        answer = _confirm(client, token, _codes(engine)[-1])
        assert answer.status_code == 200, re.findall(r'id="error"[^<]*', answer.text)
    assert [(r.status, r.target) for r in _subscriptions(engine)] == [("active", "PD0002")]


@pytest.mark.parametrize("path", ["/subscribe/stop", "/unsubscribe"])
def test_a_stop_link_with_a_digit_from_another_script_is_404(
    make_client: Callable[..., TestClient], path: str,
) -> None:
    client = make_client(OUTAGES_HTTP_PUBLIC_BASE_URL="http://testserver",
                         OUTAGES_HTTP_LINK_SECRET="a-long-random-test-secret")
    quiet = TestClient(client.app, base_url="http://testserver", raise_server_exceptions=False)
    assert quiet.get(f"{path}/%C2%B2.abc").status_code == 404  # "²": a digit, not ASCII
    assert quiet.post(f"{path}/%C2%B2.abc").status_code == 404


@pytest.mark.parametrize("path", ["/subscribe/stop", "/unsubscribe"])
def test_a_stop_link_with_a_non_ascii_signature_is_404_like_any_forged_one(
    make_client: Callable[..., TestClient], engine: Engine, people: dict[str, int], path: str,
) -> None:
    client = make_client(OUTAGES_HTTP_PUBLIC_BASE_URL="http://testserver",
                         OUTAGES_HTTP_LINK_SECRET="a-long-random-test-secret")
    with engine.begin() as conn:  # a subscriber and a customer with an email, both id 1...
        conn.execute(insert(Subscription.__table__).values(
            id=people["PD0001"], channel="email", contact="pd0001@example.vn",
            target_kind="customer", target="PD0001", keyword="PD0001", language="vi",
            status="active", via="web", created_at=utcnow()))
    quiet = TestClient(client.app, base_url="http://testserver", raise_server_exceptions=False)
    # ...answer a signature with a letter from another script as they answer a wrong one, and
    # as an id nobody has: a 500 would tell which ids are real.
    for token in (f"{people['PD0001']}.%C3%A9", f"{people['PD0001']}.abc", "999999.%C3%A9"):
        assert quiet.get(f"{path}/{token}").status_code == 404
        assert quiet.post(f"{path}/{token}").status_code == 404
    assert [s.status for s in _subscriptions(engine)] == ["active"]


def test_confirming_requests_made_together_keeps_to_the_most_per_contact(
    make_client: Callable[..., TestClient], engine: Engine, people: dict[str, int],
) -> None:
    client = make_client(OUTAGES_SUBSCRIPTIONS_MAX_PER_CONTACT="1")
    first = _token(_ask(client, "PD0001"))
    second = _token(_ask(client, "PD0002"))
    code1, code2 = _codes(engine)
    assert _confirm(client, first, code1).status_code == 200
    assert _confirm(client, second, code2).status_code == 429
    assert [(row.target, row.status) for row in _subscriptions(engine)] == [
        ("PD0001", "active"), ("PD0002", "pending")]


@pytest.mark.parametrize("field, value", [
    ("kind", "house"), ("target", "P" * 101), ("contact", "0" * 121)])
def test_a_form_field_out_of_bounds_shows_the_form_again_not_json(
    client: TestClient, engine: Engine, people: dict[str, int], field: str, value: str,
) -> None:
    """A person's form comes back as the page with the fault shown, as /openapi.json
    declares it (422 text/html), whatever is wrong in it; nothing is asked."""
    data = {"lang": "en", "kind": "customer", "target": "PD0001", "contact": "0987000001",
            "language": "en", field: value}
    page = client.post("/subscribe", data=data)
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert 'action="/subscribe"' in page.text
    assert _subscriptions(engine) == []


def test_a_language_no_form_offers_reads_vietnamese(client: TestClient, engine: Engine,
                                                    people: dict[str, int]) -> None:
    page = client.post("/subscribe", data={"lang": "fr", "kind": "customer", "target": "PD0001",
                                           "contact": "0987000001", "language": "fr"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    [pending] = _subscriptions(engine)
    assert pending.language == "vi"
