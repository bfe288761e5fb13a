"""The suggested first ETR over HTTP: in the answer to a confirmation and in the incident."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from outages.lifecycle import fault_reports
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, grid_rows
from tests.lifecycle.test_etr_desk import ACT, _incident


def test_confirm_shows_the_suggestion_in_the_cli_and_the_api(
    engine: Engine, settings: Settings, add_customers: Any, cli: Any, client: Any,
    headers: Any,
) -> None:
    add_customers(grid_rows(10))
    day = utcnow().replace(second=0, microsecond=0) - timedelta(days=2)
    for n in range(3):
        _incident(engine, settings, cause="weather", feeder="F1",
                  lasted=timedelta(minutes=45), started=day + timedelta(hours=6 * n), place=n)
    first = fault_reports.report(engine, settings, point=(LON0 + 0.5, LAT0), **ACT)
    confirmed = cli("faults", "confirm", str(first.outage_id), "--feeder", "F1", "--cause",
                    "weather")
    assert "suggested ETR" in confirmed.stdout
    assert "median 45 min of 3 past incidents, cause and feeder" in confirmed.stdout
    shown = client.get(f"/faults/{first.outage_id}", headers=headers["viewer"])
    assert shown.json()["suggested_etr"]["median_minutes"] == 45
    second = fault_reports.report(engine, settings, point=(LON0 + 0.7, LAT0), **ACT)
    answer = client.post(f"/faults/{second.outage_id}/confirm", headers=headers["dispatcher"],
                         json={"feeders": ["F1"], "cause": "weather"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["suggested_etr"]["based_on"] == 3  # the first is not restored yet
    assert answer.json()["etr"] is None
