"""PostGIS for the PostgreSQL test server: Debian's package, installed when absent (like
chromium in browser.py), then `CREATE EXTENSION postgis` in the test's database."""

from __future__ import annotations

import os
import shutil
import subprocess

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

PACKAGE = "postgresql-15-postgis-3"


def install_postgis() -> str:
    """'' once Debian's PostGIS package is installed (installing it when absent), else why
    not. The server must run on this machine for the package to reach it."""
    if _installed():
        return ""
    if not shutil.which("apt-get"):
        return f"{PACKAGE} is not installed and apt-get is not available"
    if os.geteuid() != 0:
        return f"{PACKAGE} is not installed and installing it needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", PACKAGE]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            return f"apt-get install {PACKAGE} failed: {result.stderr.strip()[-300:]}"
    return "" if _installed() else f"{PACKAGE} still not found after installing"


def create_extension(engine: Engine) -> str:
    """'' once the database has the extension, else why not."""
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except DBAPIError as exc:
        return f"CREATE EXTENSION postgis failed: {str(exc.orig).strip()}"
    return ""


def _installed() -> bool:
    if not shutil.which("dpkg-query"):
        return False
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE],
                            capture_output=True, text=True)
    return result.returncode == 0 and "install ok installed" in result.stdout
