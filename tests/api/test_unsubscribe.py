"""One-click email unsubscribe (RFC 8058): the signed link each notice email carries, in its
headers and footer, and the page and POST endpoint it leads to."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import AuditEntry, Customer
from outages.notices import delivery
from outages.timeutil import utcnow
from tests.api.conftest import BASE
from tests.notices import helpers as h
from tests.support.smtp_server import SmtpServer

_c = Customer.__table__.c


def _env(smtp: SmtpServer, **extra: str) -> dict[str, str]:
    return {"OUTAGES_SMTP_HOST": "127.0.0.1", "OUTAGES_SMTP_PORT": str(smtp.port),
            "OUTAGES_SMTP_FROM": "notices@utility.test", "OUTAGES_SMTP_STARTTLS": "false",
            "OUTAGES_NOTICES_QUIET_HOURS": "", "OUTAGES_NOTICES_CONSOLE_PATH": "/dev/null",
            **extra}


def _email_everyone(engine: Engine, client: TestClient, smtp: SmtpServer,
                    add_customers: Callable[..., None]) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    rows = h.customers(1, email=True, language="en") + h.customers(1, start=1, email=True)
    for row in rows:
        row["phone"] = None
    add_customers(rows)
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


def _opted_out(engine: Engine, email: str) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(select(_c.email_opt_out).where(_c.email == email)).scalar_one())


def test_each_email_carries_its_own_one_click_link_that_opts_out_only_its_customer(
    engine: Engine, make_client: Callable[..., TestClient], smtp: SmtpServer,
    add_customers: Callable[..., None],
) -> None:
    client = make_client(**_env(smtp, OUTAGES_HTTP_PUBLIC_BASE_URL=BASE,
                                OUTAGES_HTTP_LINK_SECRET="a-long-random-test-secret"))
    _email_everyone(engine, client, smtp, add_customers)
    mails = {m["To"]: m for m in smtp.messages}
    links = {to: m["List-Unsubscribe"].strip().strip("<>") for to, m in mails.items()}
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
               for m in mails.values())
    assert len(set(links.values())) == 2
    link = links["c0@example.test"]
    assert re.fullmatch(re.escape(BASE) + r"/unsubscribe/\d+\.[A-Za-z0-9_-]{43}", link)
    assert "example.test" not in link  # the address is only inside the signature
    mail = mails["c0@example.test"]
    assert f"To stop these emails, open {link}" in mail.get_body(("plain",)).get_content()
    assert f'<a href="{link}">Stop these emails</a>' in mail.get_body(("html",)).get_content()
    path = link.removeprefix(BASE)

    page = client.get(path)  # a mail scanner or the customer opening the link
    assert page.status_code == 200 and "<form method=\"post\">" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert not _opted_out(engine, "c0@example.test")

    # Another customer's id with this signature, or a damaged one, does nothing.
    other = re.sub(r"/(\d+)\.", lambda m: f"/{int(m[1]) + 1}.", path)
    for forged in (other, path[:-1], path.rsplit(".", 1)[0], "/unsubscribe/x.y"):
        refused = client.post(forged, content="List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 404, forged
    assert not _opted_out(engine, "c0@example.test") and not _opted_out(engine, "c1@example.test")

    done = client.post(path, content="List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "no longer receive notices by email" in done.text
    assert "C0000000" not in done.text and "example.test" not in done.text
    assert _opted_out(engine, "c0@example.test") and not _opted_out(engine, "c1@example.test")
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.__table__)).all()
    assert [(a.action, a.entity_id, a.actor, a.source) for a in audit] == \
        [("customer.email_opt_out", "C0000000", "email-link", "http")]
    assert client.post(path).status_code == 200  # clicked twice: still done, audited once
    assert client.get(path).text.count("no longer receive notices by email") == 1
    vi = client.get(links["c1@example.test"].removeprefix(BASE))
    assert "Ngừng nhận email" in vi.text


def test_a_link_stops_working_when_the_address_changes(
    engine: Engine, make_client: Callable[..., TestClient], smtp: SmtpServer,
    add_customers: Callable[..., None],
) -> None:
    client = make_client(**_env(smtp, OUTAGES_HTTP_PUBLIC_BASE_URL=BASE,
                                OUTAGES_HTTP_LINK_SECRET="a-long-random-test-secret"))
    _email_everyone(engine, client, smtp, add_customers)
    link = next(m["List-Unsubscribe"] for m in smtp.messages if m["To"] == "c0@example.test")
    with engine.begin() as conn:
        conn.execute(update(Customer).where(_c.email == "c0@example.test")
                     .values(email="new@example.test"))
    assert client.post(link.strip().strip("<>").removeprefix(BASE)).status_code == 404
    assert not _opted_out(engine, "new@example.test")


def test_without_a_link_secret_emails_carry_no_link_and_point_to_the_hotline(
    engine: Engine, make_client: Callable[..., TestClient], smtp: SmtpServer,
    add_customers: Callable[..., Any],
) -> None:
    client = make_client(**_env(smtp, OUTAGES_HTTP_PUBLIC_BASE_URL=BASE))
    _email_everyone(engine, client, smtp, add_customers)
    mail = next(m for m in smtp.messages if m["To"] == "c0@example.test")
    assert "List-Unsubscribe" not in mail and "List-Unsubscribe-Post" not in mail
    text = mail.get_body(("plain",)).get_content()
    assert "To stop these emails, call 1900 6769." in text and "unsubscribe" not in text
    assert client.post("/unsubscribe/1.anything").status_code == 404


def test_one_click_posts_from_a_mail_providers_server_are_not_limited_but_forgeries_are(
    engine: Engine, make_client: Callable[..., TestClient], smtp: SmtpServer,
    add_customers: Callable[..., None],
) -> None:
    """A mail provider sends the one-click POSTs of a whole mailing from a few servers: each
    good link stops its emails, however many came before; forged links are limited as any
    public request."""
    client = make_client(**_env(smtp, OUTAGES_HTTP_PUBLIC_BASE_URL=BASE,
                                OUTAGES_HTTP_LINK_SECRET="a-long-random-test-secret",
                                OUTAGES_HTTP_PUBLIC_RATE_PER_MINUTE="2"))
    _email_everyone(engine, client, smtp, add_customers)
    paths = [m["List-Unsubscribe"].strip().strip("<>").removeprefix(BASE)
             for m in smtp.messages]
    one_click = {"content": "List-Unsubscribe=One-Click",
                 "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    for _ in range(2):
        for path in paths:
            assert client.post(path, **one_click).status_code == 200
    assert _opted_out(engine, "c0@example.test") and _opted_out(engine, "c1@example.test")
    forged = [client.post("/unsubscribe/1.x", **one_click).status_code for _ in range(3)]
    assert forged == [404, 404, 429]
