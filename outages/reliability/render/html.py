"""The self-contained HTML report: charts embedded as base64 PNGs, the tables, the rules."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from notifier.render import html_environment
from outages import paths
from outages.errors import ValidationError
from outages.reliability.data import load_customers
from outages.reliability.render import charts, text
from outages.reliability.report import Result, Table, Variant, major_event_days, table
from outages.settings import Settings

WORST_FEEDERS = 15


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def build(conn: Connection, settings: Settings, result: Result, *,
          charts_dir: Path | None = None) -> str:
    """The HTML page; with `charts_dir`, each chart is also written there as a PNG."""
    feeders = _feeders(conn, settings, result)
    causes = table(result.data, settings, by="cause", variant=result.main.variant,
                   served=result.request.served)
    figures = _charts(settings, result, feeders, causes)
    if charts_dir is not None:
        _export(figures, charts_dir)
    return _page(settings, result, figures, feeders, causes)


def _feeders(conn: Connection, settings: Settings, result: Result) -> list[text.Group]:
    data = replace(result.data, customers=load_customers(conn, by="feeder"))
    by_feeder = table(data, settings, by="feeder", variant=result.main.variant,
                      served=result.request.served)
    ranked = sorted(by_feeder.groups, key=lambda g: -(g.indices["SAIDI"] or 0.0))
    return [g for g in ranked if g.indices["customer_interruptions"]][:WORST_FEEDERS]


def _charts(settings: Settings, result: Result, feeders: list[text.Group],
            causes: Table) -> list[Chart]:
    data, med = result.data, result.main.variant.med
    months = {p: table(data, settings, by="month", variant=Variant(p, med),
                       served=result.request.served) for p in ("only", "exclude")}
    names = [g.key for g in months["only"].groups]

    def series(planned: str, index: str) -> list[float]:
        return [g.indices[index] or 0.0 for g in months[planned].groups]

    period = slice(data.period_from, data.days.count)
    days = [data.days.date(i) for i in range(data.period_from, data.days.count)]
    cause_groups = [g for g in causes.groups if _interrupted(g)]
    return [
        Chart("monthly", "Monthly SAIDI and SAIFI", charts.monthly(
            names, (series("only", "SAIDI"), series("exclude", "SAIDI")),
            (series("only", "SAIFI"), series("exclude", "SAIFI")))),
        Chart("daily", "Daily SAIDI and major event days", charts.daily(
            days, data.daily_saidi[period].tolist(), data.day_t_med[period].tolist(),
            data.med_days[period].tolist())),
        Chart("causes", "SAIDI by cause", charts.ranked(
            "SAIDI by cause (min)", [g.key for g in cause_groups],
            [g.indices["SAIDI"] or 0.0 for g in cause_groups], "SAIDI (min)")),
        Chart("feeders", "Worst feeders", charts.ranked(
            f"Worst {len(feeders)} feeders by SAIDI", [g.key for g in feeders],
            [g.indices["SAIDI"] or 0.0 for g in feeders], "SAIDI (min, feeder customers)")),
    ]


def _export(figures: list[Chart], folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for chart in figures:
            (folder / f"{chart.name}.png").write_bytes(chart.png)
    except OSError as exc:
        raise ValidationError(f"cannot write charts to {folder}: {exc.strerror}",
                              field="charts_dir") from None


def _page(settings: Settings, result: Result, figures: list[Chart],
          feeders: list[text.Group], causes: Table) -> str:
    environment = html_environment(paths.templates_dir() / "reports")
    rows = [("N_T", ("customers_served",), "served"), *text.INDEX_ROWS]
    return environment.get_template("reliability.html.j2").render(
        data=result.data, request=result.request, tables=result.tables, charts=figures,
        index_rows=rows, value=_value, fmt=text.fmt, group_columns=text.GROUP_COLUMNS,
        feeders=feeders, causes=[g for g in causes.groups if _interrupted(g)],
        meds=major_event_days(result.data), med_lines=text.med_lines(result.data),
        rules=text.rules_lines(result.data, settings, result.request.served),
        legend=text.LEGEND)


def _value(group: text.Group, path: tuple[str, ...]) -> Any:
    return group.customers_served if path == ("customers_served",) else text.value(group, path)


def _interrupted(group: Any) -> bool:
    """A group with any interruption, sustained or momentary (a cause may have only the
    latter: its MAIFIe is in the table)."""
    indices = group.indices
    return bool(indices["customer_interruptions"] or indices.get("MAIFI")
                or indices.get("MAIFIe"))
