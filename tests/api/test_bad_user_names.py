"""User names the API refuses with 422 naming the field: control and direction characters."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("name", ["\u202eadmin", "ops\x1b[2Jadmin"])
def test_post_users_refuses_control_and_bidi_characters(client: Any, headers: Any,
                                                        name: str) -> None:
    # "a user name is 1 to 64 characters without spaces": spaces are refused, an ESC or a
    # right-to-left override (shown in the audit log and the console) is stored.
    answer = client.post("/users", json={"name": name, "role": "viewer"},
                         headers=headers["admin"])
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "name"
    listed = client.get("/users", headers=headers["admin"]).json()
    assert name not in str(listed)
