"""What a customer who texted a fault report is told when they ask for their status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from outages.db import write_transaction
from outages.notices import sms_commands
from outages.settings import Settings


def test_status_after_a_texted_fault_report_does_not_say_nothing_affects_the_customer(
        engine: Engine, settings: Settings, add_customers: Any) -> None:
    add_customers([{"code": "PD0001", "lon": 105.8, "lat": 21.0, "phone": "+84900000001",
                    "language": "vi"}])
    with write_transaction(engine) as conn:
        reply = sms_commands.receive(conn, settings, message_sid="SM1", phone="+84900000001",
                                     text="MATDIEN")
    assert reply is not None and reply.template == "fault"
    with write_transaction(engine) as conn:
        status = sms_commands.receive(conn, settings, message_sid="SM2",
                                      phone="+84900000001", text="TINH TRANG")
    assert status is not None
    text = sms_commands.render(status, settings)
    # The customer just reported no power and their report is an open incident.
    assert "khong co lich cat dien hay su co nao" not in text, text
    assert "dang mat dien" in text and "PD0001" in text, text
