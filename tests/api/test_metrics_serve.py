"""A real `outages serve --workers 2`: the requests every worker answered are summed in one
scrape (on http.metrics_listen without a token, on the API's port with one), its log lines
are JSON, and the metrics files go when it stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from outages.access import auth
from tests.support.metrics import scrape, value
from tests.support.server import free_port

pytestmark = pytest.mark.real_clock  # the server is another process


@pytest.mark.slow
def test_two_server_workers_are_scraped_as_one(test_env, engine: Engine, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = {**os.environ, **test_env, "TMPDIR": str(tmp_path), "OUTAGES_LOG_FORMAT": "json",
           "OUTAGES_HTTP_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}
    log_path = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from outages.cli import main; main()", "serve",
               "--port", str(port), "--workers", "2"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        with engine.begin() as conn:
            auth.add_user(conn, name="grafana", role="viewer", actor="setup", source="cli")
            token, _ = auth.create_token(conn, name="grafana", actor="setup", source="cli")
        before = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        for _ in range(40):  # new connections, so both workers take some
            assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/metrics").status_code == 401
        listened = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)

    def healthz(text: str) -> float:
        return value(text, "outages_http_requests_total", route="/healthz", status="200")

    assert healthz(listened) - healthz(before) == 40
    assert healthz(answer.text) == healthz(listened)
    assert value(listened, "outages_http_requests_total", route="/metrics", status="401") == 1
    lines = [json.loads(line) for line in log_path.read_text().splitlines()
             if line.startswith("{")]
    refused = [line for line in lines if line["logger"] == "outages.api.errors"]
    assert [line["message"].split(" from ")[0] for line in refused] == ["refused 401 GET /metrics"]
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    assert not list(tmp_path.glob("outages-metrics-*"))  # the metrics files went with it


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"outages serve exited with {process.returncode}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"outages serve did not answer on {base}")
