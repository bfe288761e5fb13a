"""`make screenshots`: PNGs of the console's main pages, with the base map off, in docs/img/.

Builds a throwaway demo database (a small synthetic city, a planned cut, a started cut, a
fault incident, a user per role), serves it with `outages serve` on a free loopback port,
signs in as the dispatcher (the admin for Users) in Debian's chromium, and shoots each page.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import FLAGS, find_or_install_chromium  # noqa: E402
from tests.support.server import running_server  # noqa: E402

OUT = ROOT / "docs" / "img"
PASSWORD = "screenshots only"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def outages(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    command = [sys.executable, "-c", "from outages.cli import main; main()", *args]
    done = subprocess.run(command, env={**os.environ, **env}, input=stdin, text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"outages {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def local(delta: timedelta, hour: int) -> str:
    moment = (datetime.now(UTC) + delta).astimezone(ZONE)
    return moment.replace(hour=hour, minute=0).strftime("%Y-%m-%d %H:%M")


def build_demo(folder: Path) -> dict[str, str]:
    env = {"OUTAGES_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
           "OUTAGES_WEB_TILE_URL": "", "OUTAGES_ACTOR": "screenshots"}
    outages(env, "db", "upgrade")
    outages(env, "demo-data", "city", str(folder), "--customers", "3000", "--seed", "7")
    outages(env, "customers", "import", str(folder / "customers.csv"))
    outages(env, "areas", "import", str(folder / "areas" / "districts.geojson"),
            "--name-property", "name", "--kind", "district")
    area = str(folder / "areas" / "cut.geojson")
    for days in (6, 8):
        outages(env, "cuts", "create", "--area", area, "--start", local(timedelta(days=days), 8),
                "--end", local(timedelta(days=days), 16), "--reason",
                "Bảo dưỡng lưới điện", "--by", "dispatcher")
    started = outages(env, "cuts", "create", "--area", str(folder / "areas" / "preview.geojson"),
                      "--start", local(timedelta(days=6), 9), "--end",
                      local(timedelta(days=6), 12), "--reason", "Thay máy biến áp",
                      "--by", "dispatcher", "--json")
    import json

    outages(env, "cuts", "start", str(json.loads(started)["id"]), "--by", "dispatcher")
    # The synthetic city has no priority customers: make three of the first cut's, so its
    # call list has someone to call.
    with sqlite3.connect(folder / "demo.db") as conn:
        conn.execute("UPDATE customers SET priority = 'life_support' WHERE id IN (SELECT "
                     "customer_id FROM outage_customers WHERE outage_id = 1 LIMIT 3)")
    # An incoming fault report, so the Incidents page has one to show.
    with open(folder / "customers.csv", encoding="utf-8") as registry:
        code = registry.readlines()[1].split(",")[0]
    outages(env, "faults", "report", "--customer", code, "--by", "dispatcher")
    for role in ("admin", "dispatcher"):
        outages(env, "users", "add", role, "--role", role)
        outages(env, "users", "passwd", role, "--password-stdin", stdin=PASSWORD + "\n")
    return env


def shoot(base: str, area_file: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    binary, why = find_or_install_chromium()
    if binary is None:
        raise SystemExit(f"no chromium: {why}")
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, headless=True,
                                             args=[f for f in FLAGS if f != "--headless"])
        week = (datetime.now(UTC) + timedelta(days=6)).astimezone(ZONE).date().isoformat()
        for user, pages in (("dispatcher", ("cuts/new", "incidents", "cuts",
                                            f"cuts/week?start={week}", "cuts/1", "cuts/3",
                                            "cuts/1/calls", "notices", "alerts")),
                            ("admin", ("users",))):
            context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860},
                                          timezone_id="Asia/Ho_Chi_Minh")
            page = context.new_page()
            page.goto(f"{base}/console/sign-in?lang=en")
            if user == "dispatcher":
                path = OUT / "console-sign-in.png"
                page.screenshot(path=str(path))
                written.append(path)
            page.get_by_label("Username").fill(user)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_load_state()
            for name in pages:
                page.goto(f"{base}/console/{name}")
                if page.locator("#cut-map").count():
                    page.locator("#cut-map[data-loaded=true]").wait_for()
                if page.locator("#ops-map").count():
                    page.locator("#ops-map[data-loaded=true]").wait_for()
                if name == "cuts/new":  # an area, so the preview panel has something to say
                    page.get_by_label("Upload area (GeoJSON)").set_input_files(area_file)
                    page.get_by_text("customers affected").first.wait_for()
                path = OUT / f"console-{name.split('?')[0].replace('/', '-')}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
            context.close()
        browser.close()
    return written


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="outages-shots-") as tmp:
        env = build_demo(Path(tmp))
        with running_server(env) as base:
            for path in shoot(base, str(Path(tmp) / "areas" / "preview.geojson")):
                print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
