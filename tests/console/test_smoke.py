from __future__ import annotations

import pytest

pytestmark = pytest.mark.real_clock


def test_pages_answer(console, signed_client) -> None:
    client, _csrf = signed_client("admin")
    for path in ("/console/cuts", "/console/cuts/week", "/console/notices", "/console/alerts",
                 "/console/users", "/console/reports"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:2000])
