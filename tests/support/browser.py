"""Headless Chromium (Debian's package) for checking server-rendered pages, and a real
`outages serve` process on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


def find_or_install_chromium() -> tuple[str | None, str]:
    """The chromium binary, installing Debian's package when absent; else (None, why)."""
    found = shutil.which("chromium")
    if found:
        return found, ""
    if not shutil.which("apt-get"):
        return None, "chromium is not installed and apt-get is not available"
    if os.geteuid() != 0:
        return None, "chromium is not installed and installing it needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "chromium"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            return None, f"apt-get install chromium failed: {result.stderr.strip()[-300:]}"
    found = shutil.which("chromium")
    return (found, "") if found else (None, "chromium still not found after installing")


def dump_dom(chromium: str, url: str, profile: Path) -> str:
    """The page's DOM after its load, as Chromium rendered it."""
    result = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-500:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: Mapping[str, str], *extra: str,
                   timeout: float = 30) -> Iterator[str]:
    """Run `outages serve` on 127.0.0.1 with `env`; yield its base URL; stop it after."""
    port = free_port()
    command = [sys.executable, "-c", "from outages.cli import main; main()", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra]
    process = subprocess.Popen(command, env={**os.environ, **env})
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
