"""At the command line: a cut's reason in English, a fault's reason from the dispatcher, and
an automatic area drawn around a few callers kept out of public answers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from outages.lifecycle import public
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import columns


def test_cuts_create_takes_a_reason_in_english(cli: Any, grid: Any, area_file: Any) -> None:
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    created = cli("cuts", "create", "--area", area_file(columns(0, 0)), "--start",
                  f"{day} 08:00", "--end", f"{day} 16:30", "--reason",
                  "bảo dưỡng đường dây 22kV", "--reason-en", "22kV line maintenance", "--json")
    assert created.exit_code == 0, created.stderr
    cut = json.loads(created.stdout)
    assert (cut["reason"], cut["reason_en"]) == ("bảo dưỡng đường dây 22kV",
                                                 "22kV line maintenance")
    shown = cli("cuts", "show", str(cut["id"])).stdout
    assert "22kV line maintenance" in shown and cut["public_ref"] in shown
    preview = json.loads(cli("notices", "preview", "--cut", str(cut["id"]), "--language", "en",
                             "--json").stdout)
    assert all("22kV line maintenance" in m["body"] for m in preview["messages"])


def test_faults_confirm_reads_the_dispatchers_reason_and_keeps_a_lone_area_private(
        cli: Any, grid: Any, engine: Engine, settings: Settings) -> None:
    first = json.loads(cli("faults", "report", "--customer", "C000", "--text",
                           "call me on 0987654321", "--json").stdout)
    fault = str(first["outage_id"])
    both = cli("faults", "confirm", fault, "--auto", "--area", json.dumps(columns(0, 0)),
               "--yes")
    assert both.exit_code == 2 and "--auto" in both.stderr
    saved = cli("faults", "confirm", fault, "--auto", "--yes", "--cause", "animal",
                "--reason", "chuột cắn dây", "--json")
    assert saved.exit_code == 0, saved.stderr
    assert json.loads(saved.stdout)["reason"] == "chuột cắn dây"
    preview = json.loads(cli("notices", "preview", "--fault", fault, "--json").stdout)
    bodies = {(m["channel"], m["language"]): m["body"] for m in preview["messages"]}
    assert "chuot can day" in bodies[("sms", "vi")]
    assert "an animal on the equipment" in bodies[("sms", "en")]
    assert "0987654321" not in json.dumps(preview)
    with engine.connect() as conn:
        [published] = public.current_outages(conn, settings)
    # Drawn around one caller's home: the districts say where, the shape is left out.
    assert published.area is None and published.districts == ["Ba Dinh", "Dong Da"]
