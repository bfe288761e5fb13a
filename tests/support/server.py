"""A real `outages serve` process on a free loopback port (for tests and benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: Mapping[str, str], *extra: str, timeout: float = 30,
                   output: IO[bytes] | None = None) -> Iterator[str]:
    """Run `outages serve` on 127.0.0.1 with `env`; yield its base URL; stop it after.
    `output` receives what it prints (else it goes where the tests' own output goes)."""
    port = free_port()
    command = [sys.executable, "-c", "from outages.cli import main; main()", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra]
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=output,
                               stderr=subprocess.STDOUT if output else None)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, timeout)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"outages serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"outages serve did not answer on {base} within {timeout} s")
