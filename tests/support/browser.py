"""Headless Chromium (Debian's package) for checking server-rendered pages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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


def dump_dom(chromium: str, url: str, profile: Path, *, wait_ms: int = 0) -> str:
    """The page's DOM after its load, as Chromium rendered it; `wait_ms` gives its scripts
    that much (virtual) time to build the page first."""
    wait = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    result = subprocess.run(
        [chromium, *FLAGS, *wait, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-500:]}")
    return result.stdout
