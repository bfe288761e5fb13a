"""What readers without personal data (engineers, viewers) may not learn from the audit log,
and bodies that refuse fields they do not know."""

from __future__ import annotations


def test_engineer_audit_log_does_not_reveal_a_stop_senders_phone(client, headers,
                                                                 twilio_post) -> None:
    # A number with no account texts STOP: it is remembered as opted out (audited).
    phone = "+84987654321"
    answer = twilio_post("/twilio/inbound", {"From": phone, "Body": "STOP"})
    assert answer.status_code == 200
    # The admin sees the entry (personal data allowed) ...
    admin = client.get("/audit", headers=headers["admin"]).json()["entries"]
    assert any(e["action"] == "number.sms_opt_out" for e in admin)
    # ... the engineer reads the audit log "without personal data": no phone number.
    page = client.get("/audit", headers=headers["engineer"])
    assert page.status_code == 200
    assert phone not in page.text, [e for e in page.json()["entries"]
                                    if e["action"] == "number.sms_opt_out"]


def test_engineer_audit_log_does_not_tell_who_is_a_priority_customer(
        client, headers, people, app_settings) -> None:
    from tests.api.test_priority import _cut

    # PD0002 is a medical priority customer: personal data, blanked for engineers everywhere.
    client.patch("/customers/PD0002", headers=headers["admin"], json={"priority": "medical"})
    created = _cut(client, headers, app_settings.tz, 8)
    assert created.status_code == 201, created.text
    cut = created.json()["id"]
    note = "oxygen concentrator at home, daughter answered"
    called = client.post(f"/cuts/{cut}/calls", headers=headers["dispatcher"],
                         json={"code": "PD0002", "outcome": "reached", "note": note})
    assert called.status_code == 201, called.text
    # The engineer may not read the call list (403) nor a customer's priority ...
    assert client.get(f"/cuts/{cut}/calls", headers=headers["engineer"]).status_code == 403
    # ... but the audit log names the priority customer called, and the dispatcher's note.
    entries = client.get("/audit", headers=headers["engineer"]).json()["entries"]
    call = next(e for e in entries if e["action"] == "priority.call")
    assert "PD0002" not in str(call) and note not in str(call), call


def test_post_users_refuses_unknown_fields(client, headers) -> None:
    # README: "Request bodies refuse unknown fields (a misspelt option is an error, not
    # ignored)".
    answer = client.post("/users", headers=headers["admin"],
                         json={"name": "lan.nguyen", "role": "viewer", "disabled": True})
    assert answer.status_code == 422, answer.text
