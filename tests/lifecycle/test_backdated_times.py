"""Times a dispatcher types for what already happened (a start, a restoration, a report) lie
at most lifecycle.max_backdate back: a mistyped year would count as a year-long interruption
in SAIDI. Refused with the time as understood in local time, and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, func, select

from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cuts, fault_reports, faults
from outages.models import Outage
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0
from tests.lifecycle.test_cuts_changes import interruptions
from tests.lifecycle.test_cuts_create import make

ACT: dict[str, Any] = {"actor": "desk", "source": "cli"}
NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 08:30 in Hanoi
A_YEAR_BACK = NOW - timedelta(days=365)  # 2025 typed for 2026


def _status(engine: Engine, outage_id: int) -> str:
    with engine.connect() as conn:
        return str(lc.load(conn, outage_id).status)


@time_machine.travel(NOW, tick=False)
def test_a_cut_start_a_year_back_is_refused_and_the_cut_stays_scheduled(
        engine: Engine, relaxed: Settings, grid: Any) -> None:
    cut = make(engine, relaxed)
    before = interruptions(engine, cut.id)
    with pytest.raises(ValidationError) as caught:
        cuts.start(engine, relaxed, cut_id=cut.id, at=A_YEAR_BACK, **ACT)
    assert caught.value.field == "at"
    assert caught.value.message == (
        "start time 2025-12-02 08:30 +07 is more than 7d ago (lifecycle.max_backdate): check "
        "the date and give a time after 2026-11-25 08:30 +07 (history from before then is "
        "imported, not typed)")
    assert (_status(engine, cut.id), interruptions(engine, cut.id)) == ("scheduled", before)
    # Entered after the fact within the bound: accepted, and before the planned start.
    started = cuts.start(engine, relaxed, cut_id=cut.id, at=NOW - timedelta(days=6), **ACT)
    assert started.status == "in_progress"


@time_machine.travel(NOW, tick=False)
def test_the_bound_is_a_setting(engine: Engine, make_settings: Any, grid: Any) -> None:
    wide = make_settings(OUTAGES_PLANNED_MIN_NOTICE="0s", OUTAGES_LIFECYCLE_MAX_BACKDATE="400d")
    cut = make(engine, wide)
    assert cuts.start(engine, wide, cut_id=cut.id, at=A_YEAR_BACK, **ACT).status == "in_progress"
    narrow = make_settings(OUTAGES_PLANNED_MIN_NOTICE="0s", OUTAGES_LIFECYCLE_MAX_BACKDATE="1h")
    other = make(engine, narrow, 3, 4)
    with pytest.raises(ValidationError, match=r"more than 1h ago .* after 2026-12-02 07:30 \+07"):
        cuts.start(engine, narrow, cut_id=other.id, at=NOW - timedelta(hours=2), **ACT)


def test_a_restoration_of_a_long_open_cut_dated_past_the_bound_is_refused(
        engine: Engine, relaxed: Settings, grid: Any) -> None:
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        cut = make(engine, relaxed)
        cuts.start(engine, relaxed, cut_id=cut.id, at=None, **ACT)
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(ValidationError, match=r"restoration time 2026-11-23 08:30 \+07 is "
                                                  "more than 7d ago"):
            cuts.restore(engine, relaxed, cut_id=cut.id, at=NOW - timedelta(days=9), **ACT)
        assert _status(engine, cut.id) == "in_progress"
        assert cuts.restore(engine, relaxed, cut_id=cut.id, at=None, **ACT).status == "completed"


@time_machine.travel(NOW, tick=False)
def test_a_fault_start_or_report_a_year_back_is_refused_and_nothing_is_recorded(
        engine: Engine, settings: Settings, grid: Any) -> None:
    with pytest.raises(ValidationError, match=r"report time 2025-12-02 08:30 \+07 is more") as bad:
        fault_reports.report(engine, settings, point=(LON0, LAT0), at=A_YEAR_BACK, **ACT)
    assert bad.value.field == "at"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Outage.__table__)).scalar() == 0
    report = fault_reports.report(engine, settings, point=(LON0, LAT0), **ACT)
    with pytest.raises(ValidationError, match=r"start time 2025-12-02 08:30 \+07 is more") as bad:
        faults.confirm(engine, settings, fault_id=report.outage_id, feeders=["F1"],
                       started_at=A_YEAR_BACK, **ACT)
    assert bad.value.field == "started_at"
    assert _status(engine, report.outage_id) == "reported"
    faults.confirm(engine, settings, fault_id=report.outage_id, feeders=["F1"], **ACT)
    with pytest.raises(ValidationError, match=r"restoration time 2025-12-02 08:30 \+07 is more"):
        faults.restore(engine, settings, fault_id=report.outage_id, at=A_YEAR_BACK, **ACT)


def test_a_fault_reported_days_ago_is_confirmed_from_its_first_report(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """The default start, the earliest report, was checked when the report was filed."""
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        report = fault_reports.report(engine, settings, point=(LON0, LAT0), **ACT)
    with time_machine.travel(NOW, tick=False):
        view = faults.confirm(engine, settings, fault_id=report.outage_id, feeders=["F1"],
                              **ACT)
    assert view.status == "confirmed"
