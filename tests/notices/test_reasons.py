"""Why an outage happened, as customers read it: only the dispatcher's words or the cause's
wording, in the customer's language; a caller's own words stay on their report."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from outages.db import write_transaction
from outages.lifecycle import core as lc
from outages.lifecycle import cuts, fault_reports, faults
from outages.models import FaultReport
from outages.notices import sms_commands
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.notices import helpers as h

SECRET = "no power at home, call me 0987654321"
AREA = json.dumps({"type": "Polygon", "coordinates": [[
    [105.79, 20.99], [105.81, 20.99], [105.81, 21.01], [105.79, 21.01], [105.79, 20.99]]]})


@pytest.fixture
def neighbours(add_customers: Any) -> None:
    """Customers at one place in both languages, with phones and emails."""
    add_customers(h.customers(3, email=True) + h.customers(2, start=3, email=True,
                                                          language="en"))


def _texts(engine: Engine, kind: str) -> dict[tuple[str, str], list[str]]:
    """Each stored message of `kind` (subject, body and HTML as one text), by (channel,
    language)."""
    found: dict[tuple[str, str], list[str]] = {}
    for row in h.rows(engine, kind=kind):
        text = "\n".join(p for p in (row.subject, row.body, row.html) if p)
        found.setdefault((row.channel, row.language), []).append(text)
    return found


def _everything(engine: Engine) -> str:
    return "\n".join(p for r in h.rows(engine) for p in (r.body, r.subject, r.html) if p)


def test_a_callers_words_stay_on_the_report_and_customers_read_the_cause(
    engine: Engine, settings: Settings, neighbours: None,
) -> None:
    report = fault_reports.report(engine, settings, customer="C0000000", text=SECRET,
                                  actor="callcentre", source="cli")
    view = faults.confirm(engine, settings, fault_id=report.outage_id, actor="dispatch",
                          source="cli", area=lc.read_area(AREA, settings),
                          cause="equipment_failure")
    assert view.reason is None
    texts = _texts(engine, "fault_ack")
    assert set(texts) == {("sms", "vi"), ("sms", "en"), ("email", "vi"), ("email", "en")}
    assert all("su co thiet bi" in t for t in texts[("sms", "vi")])
    assert all("sự cố thiết bị" in t for t in texts[("email", "vi")])
    assert all("equipment failure" in t for t in texts[("sms", "en")] + texts[("email", "en")])
    assert "0987654321" not in _everything(engine) and "call me" not in _everything(engine)
    with engine.connect() as conn:  # kept where it belongs
        assert [r.text for r in faults.reports(conn, settings, report.outage_id)] == [SECRET]


def test_a_reason_the_dispatcher_types_comes_before_the_cause(
    engine: Engine, settings: Settings, neighbours: None,
) -> None:
    report = fault_reports.report(engine, settings, customer="C0000001", text=SECRET,
                                  actor="callcentre", source="cli")
    view = faults.confirm(engine, settings, fault_id=report.outage_id, actor="dispatch",
                          source="cli", area=lc.read_area(AREA, settings), cause="vegetation",
                          reason="cây đổ vào đường dây", reason_en="a tree fell on the line")
    assert (view.reason, view.reason_en) == ("cây đổ vào đường dây", "a tree fell on the line")
    texts = _texts(engine, "fault_ack")
    assert all("cay do vao duong day" in t for t in texts[("sms", "vi")])
    assert all("a tree fell on the line" in t for t in texts[("sms", "en")])
    assert SECRET not in _everything(engine)


def test_an_inbound_sms_report_never_reaches_the_neighbours(
    engine: Engine, settings: Settings, neighbours: None,
) -> None:
    with write_transaction(engine) as conn:
        sms_commands.handle(conn, settings, phone="+84900000002", text="MATDIEN")
    with engine.connect() as conn:
        outage = conn.execute(select(FaultReport.__table__.c.outage_id)).scalar_one()
    faults.confirm(engine, settings, fault_id=outage, actor="dispatch", source="cli",
                   area=lc.read_area(AREA, settings))
    acks = _texts(engine, "fault_ack")
    assert len(h.rows(engine, kind="fault_ack")) == 10  # five customers, SMS and email
    assert "MATDIEN" not in "\n".join(t for texts in acks.values() for t in texts)
    assert all("cause being investigated" in t for t in acks[("sms", "en")])


def _cut(engine: Engine, settings: Settings, **reasons: Any) -> None:
    start = utcnow() + timedelta(days=2)
    cuts.create(engine, settings, area=lc.read_area(AREA, settings), start=start,
                end=start + timedelta(hours=4), actor="dispatch", source="cli", **reasons)


@pytest.mark.parametrize(("reason_en", "english"), [
    ("maintenance of the 22kV line", "maintenance of the 22kV line"),
    (None, "planned work"),  # the wording of the cause 'planned', not Vietnamese
])
def test_english_notices_of_a_cut_read_an_english_reason(
    engine: Engine, make_settings: Callable[..., Settings], neighbours: None,
    reason_en: str | None, english: str,
) -> None:
    settings = make_settings(OUTAGES_PLANNED_MIN_NOTICE="0s")
    _cut(engine, settings, reason="bảo dưỡng đường dây 22kV", reason_en=reason_en)
    texts = _texts(engine, "announcement")
    assert all(english in t for t in texts[("sms", "en")])
    assert all(english in t for t in texts[("email", "en")])
    assert not any("duong day" in t or "đường dây" in t
                   for t in texts[("sms", "en")] + texts[("email", "en")])
    assert all("bao duong duong day 22kV" in t for t in texts[("sms", "vi")])


def test_the_one_reason_is_the_default_languages(
    engine: Engine, make_settings: Callable[..., Settings], neighbours: None,
) -> None:
    settings = make_settings(OUTAGES_PLANNED_MIN_NOTICE="0s", OUTAGES_LOCALE_DEFAULT_LANGUAGE="en")
    _cut(engine, settings, reason="line maintenance")
    texts = _texts(engine, "announcement")
    assert all("line maintenance" in t for t in texts[("sms", "en")])
    assert all("cong tac theo ke hoach" in t for t in texts[("sms", "vi")])
