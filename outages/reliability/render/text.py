"""Tables for people (rich), CSV for spreadsheets, and the counting rules as footer lines."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table as RichTable

from outages.reliability.dataset import Dataset, History
from outages.reliability.indices import CEMI_N
from outages.reliability.report import Group, Result, Table, major_event_days, med_years
from outages.settings import Settings
from outages.text import CsvWriter
from outages.timeutil import format_duration

# (label, path into the indices object, format): "sig" 5 significant digits, "asai" 8
# decimals, "count" a whole number.
INDEX_ROWS: list[tuple[str, tuple[str, ...], str]] = [
    ("SAIFI", ("SAIFI",), "sig"),
    ("SAIDI min", ("SAIDI",), "sig"),
    ("CAIDI min", ("CAIDI",), "sig"),
    ("CTAIDI min", ("CTAIDI",), "sig"),
    ("CAIFI", ("CAIFI",), "sig"),
    ("ASAI", ("ASAI",), "asai"),
    ("MAIFI", ("MAIFI",), "sig"),
    ("MAIFIe", ("MAIFIe",), "sig"),
    *[(f"CEMI{n}", ("CEMI", str(n)), "sig") for n in CEMI_N],
    *[(f"CEMSMI{n}", ("CEMSMI", str(n)), "sig") for n in CEMI_N],
    ("CELID-s", ("CELID_s",), "sig"),
    ("CELID-t", ("CELID_t",), "sig"),
    ("CI", ("customer_interruptions",), "count"),
    ("CMI", ("customer_minutes",), "sig"),
    ("CN", ("customers_interrupted",), "count"),
]
GROUP_COLUMNS = [("SAIFI", ("SAIFI",), "sig"), ("SAIDI", ("SAIDI",), "sig"),
                 ("CAIDI", ("CAIDI",), "sig"), ("MAIFIe", ("MAIFIe",), "sig"),
                 ("CEMI3", ("CEMI", "3"), "sig")]
LEGEND = ("N_T customers served, CI customer interruptions, CMI customer minutes interrupted, "
          "CN customers interrupted; -MED: major event days left out.")


def value(group: Group, path: Sequence[str]) -> Any:
    current: Any = group.indices
    for part in path:
        current = current[part]
    return current


def fmt(number: Any, style: str) -> str:
    if number is None:
        return "-"
    if style == "count" or (style == "served" and float(number).is_integer()):
        return f"{int(number):,}"
    if style == "asai":
        return f"{float(number):.8f}"
    if number == 0:
        return "0"
    digits = 5 - 1 - math.floor(math.log10(abs(float(number))))
    return f"{float(number):,.{min(max(digits, 0), 8)}f}"


def totals_table(tables: Sequence[Table]) -> RichTable:
    """Index rows against one column per variant (planned/unplanned, with/without MEDs)."""
    out = RichTable(title="System indices", title_justify="left", box=box.SIMPLE_HEAD,
                    pad_edge=False)
    out.add_column("index", no_wrap=True)
    for result in tables:
        out.add_column(result.variant.short, justify="right")
    out.add_row("N_T", *(fmt(t.totals.customers_served, "served") for t in tables))
    for label, path, style in INDEX_ROWS:
        out.add_row(label, *(fmt(value(t.totals, path), style) for t in tables))
    return out


def groups_table(by: str, tables: Sequence[Table]) -> RichTable:
    """One row per group: the main indices of the first variant, then SAIDI unplanned and
    SAIDI without MEDs when those variants were computed."""
    main = tables[0]
    others = [t for t in tables[1:] if (t.variant.planned, t.variant.med) in (
        ("exclude", main.variant.med), (main.variant.planned, "exclude"))]
    out = RichTable(title=f"By {by} ({main.variant.label})", title_justify="left",
                    box=box.SIMPLE_HEAD, pad_edge=False)
    out.add_column(by, no_wrap=True)
    out.add_column("N_T", justify="right")
    for label, _path, _style in GROUP_COLUMNS:
        out.add_column(label, justify="right")
    for other in others:
        out.add_column(f"SAIDI {other.variant.short}", justify="right")
    for index, group in enumerate(main.groups):
        cells = [fmt(value(group, path), style) for _label, path, style in GROUP_COLUMNS]
        cells += [fmt(other.groups[index].indices["SAIDI"], "sig") for other in others]
        # A group's name is people's text ("Phường 1 [cũ]"), not markup.
        out.add_row(escape(group.key), fmt(group.customers_served, "served"), *cells)
    return out


def med_lines(data: Dataset) -> list[str]:
    lines = ["Major event days: 2.5 beta method over the daily SAIDI of restored sustained "
             "interruptions; each reporting year (calendar year of local days) has its own "
             f"T_MED from the {data.history.years_wanted} years before it."]
    for history in data.histories:
        lines.extend(_year_lines(history))
    days = major_event_days(data)
    lines.append("MEDs in the period: " + (", ".join(
        f"{d.date} (SAIDI {d.saidi:.3f})" for d in days) if days else "none"))
    return lines


def _year_lines(history: History) -> list[str]:
    if history.data_from is None:
        span = "no interruption recorded"
    elif history.short:
        span = (f"{history.years:g} years of data, fewer than the {history.years_wanted} "
                f"wanted: history starts {history.data_from}")
    else:
        span = f"{history.years:g} years of data"
    lines = [f"T_MED of {history.year} from local days {history.first} to "
             f"{history.until - timedelta(days=1)} ({span})."]
    t = history.threshold
    lines.append("T_MED: not available (fewer than two history days with a non-zero SAIDI); "
                 f"no day of {history.year} is a major event day." if t is None else
                 f"alpha {t.alpha:.5f}, beta {t.beta:.5f} over {t.days_used} non-zero days; "
                 f"T_MED = exp(alpha + 2.5 beta) = {t.t_med:.5f} min")
    if history.unrestored:
        lines.append(f"{history.unrestored} interruption(s) of this history with no restoration "
                     "recorded left out (their length is unknown).")
    return lines


def rules_lines(data: Dataset, settings: Settings, served: str) -> list[str]:
    rules = settings.reliability
    lines = [
        f"Period {data.first} to {data.last} inclusive, local days in {data.tz.key} "
        f"({data.hours:g} hours).",
        f"Sustained: longer than {format_duration(rules.momentary_max)}; momentary: that or "
        "shorter. A momentary event is all momentary interruptions of one outage for one "
        "customer; one followed by a sustained interruption of that outage (a lockout) is "
        "not a momentary event (MAIFIe, CEMSMI), its interruptions still count in MAIFI.",
        "An interruption belongs to the period and the day in which it began, with its full "
        "duration.",
        "A customer's overlapping or touching sustained interruptions count once, from the "
        "earliest start to the latest end, under the interruption that began first; a momentary "
        "interruption beginning inside a sustained one is not counted.",
        ("Customers served: connected at the end of the period (registry dates)." if served ==
         "end" else "Customers served: daily average over the period (registry dates)."),
        f"CELID-s: longest interruption at least {rules.celid_s_hours:g} h; CELID-t: total at "
        f"least {rules.celid_t_hours:g} h. CEMI/CEMSMI n: customers with MORE than n.",
        "An interruption without a recorded restoration is sustained and counts until the end "
        f"of the period or now, whichever is earlier ({data.open_interruptions} such in the "
        "period); one begun before the period is left out.",
    ]
    return lines


def to_csv(report: Result) -> str:
    """One row per group, then the totals, for the chosen variant; each row ends with every
    reporting year's T_MED and its history (the same on every row)."""
    result, years = report.main, med_years(report.data)
    buffer = io.StringIO()
    writer = CsvWriter(buffer, lineterminator="\n")
    header = ["key", "planned", "med", "customers_served"]
    header += ["_".join(path) for _label, path, _style in INDEX_ROWS]
    for year in years:
        header += [f"t_med_{year.year}{part}" for part in
                   ("", "_history_years", "_history_short", "_unrestored_left_out")]
    writer.writerow(header)  # CSV names the index paths: CEMI_1, customer_minutes ...
    thresholds = [cell for year in years for cell in (
        _plain(year.t_med), _plain(year.history_years),
        "true" if year.history_short else "false", str(year.unrestored_left_out))]
    for group in [*result.groups, result.totals]:
        key = "TOTAL" if group is result.totals else group.key
        writer.writerow([key, result.variant.planned, result.variant.med,
                         _plain(group.customers_served)]
                        + [_plain(value(group, path)) for _label, path, _style in INDEX_ROWS]
                        + thresholds)
    return buffer.getvalue()


def _plain(number: Any) -> str:
    if number is None:
        return ""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return repr(number) if isinstance(number, float) else str(number)


def renderables(result: Result, settings: Settings) -> list[Any]:
    """The terminal report: system indices, groups, MEDs, then the counting rules."""
    items: list[Any] = [totals_table(result.tables)]
    if result.request.by:
        items.append(groups_table(result.request.by, result.tables))
    items.extend(med_lines(result.data))
    items.append("")
    items.append(f"[dim]{LEGEND}[/dim]")
    items.extend(f"[dim]{line}[/dim]" for line in rules_lines(result.data, settings,
                                                               result.request.served))
    return items
