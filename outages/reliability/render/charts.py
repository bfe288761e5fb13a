"""Report charts as PNG bytes.

Figures are built without pyplot, so no global state and no display: saving a bare Figure to
PNG renders with the Agg backend.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

PLANNED_COLOR, UNPLANNED_COLOR, MED_COLOR = "#4c72b0", "#dd8452", "#c44e52"


def _days(days: Sequence[date]) -> npt.NDArray[np.datetime64]:
    return np.asarray(days, dtype="datetime64[D]")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def monthly(months: Sequence[str], saidi: tuple[Sequence[float], Sequence[float]],
            saifi: tuple[Sequence[float], Sequence[float]]) -> bytes:
    """Stacked monthly bars, (planned, unplanned), SAIDI above SAIFI."""
    figure = Figure(figsize=(10, 6))
    top, bottom = figure.subplots(2, 1, sharex=True)
    positions = range(len(months))
    for axis, (planned, unplanned), label in ((top, saidi, "SAIDI (min)"),
                                              (bottom, saifi, "SAIFI")):
        axis.bar(positions, unplanned, color=UNPLANNED_COLOR, label="unplanned")
        axis.bar(positions, planned, bottom=unplanned, color=PLANNED_COLOR, label="planned")
        axis.set_ylabel(label)
        axis.grid(axis="y", alpha=0.3)
    top.set_title("Monthly SAIDI and SAIFI, planned and unplanned")
    top.legend(loc="upper right")
    bottom.set_xticks(list(positions), months, rotation=45, ha="right")
    return _png(figure)


def daily(days: Sequence[date], saidi: Sequence[float], t_med: Sequence[float],
          meds: Sequence[bool]) -> bytes:
    """Daily SAIDI on a log scale (zero days have no bar), each day's T_MED (its reporting
    year's, NaN where none) as a stepped line, MEDs in red."""
    figure = Figure(figsize=(10, 4))
    axis = figure.subplots()
    shown = [(d, s, m) for d, s, m in zip(days, saidi, meds, strict=True) if s > 0]
    handles: list[Any] = []
    if shown:
        axis.bar(_days([d for d, _s, _m in shown]), [s for _d, s, _m in shown], width=1.0,
                 color=[MED_COLOR if m else UNPLANNED_COLOR for _d, _s, m in shown])
        axis.set_yscale("log")
        handles.append(Patch(color=UNPLANNED_COLOR, label="daily SAIDI"))
    marked = [(d, s) for d, s, m in shown if m]
    if marked:
        # A thin bar is easy to miss on a year-long axis: mark MEDs above their bar too.
        axis.plot(_days([d for d, _s in marked]), [s * 1.6 for _d, s in marked], "v",
                  color=MED_COLOR, markersize=7)
        handles.append(Patch(color=MED_COLOR, label=f"major event day ({len(marked)})"))
    known = sorted({round(t, 3) for t in t_med if not math.isnan(t)})
    if known:
        label = "T_MED " + ", ".join(f"{t:.3f}" for t in known) + " min"
        (line,) = axis.step(_days(list(days)), list(t_med), where="mid", color="black",
                            linestyle="--", linewidth=1, label=label)
        handles.append(line)
    if handles:
        axis.legend(handles=handles, loc="upper right")
    axis.set_title("Daily SAIDI (sustained, all causes)")
    axis.set_ylabel("SAIDI (min, log scale)")
    axis.grid(axis="y", alpha=0.3)
    figure.autofmt_xdate()
    return _png(figure)


def _literal(name: str) -> str:
    """A feeder or cause name as written: matplotlib reads text between two `$` as math,
    which garbles the name or, when it is not valid math ("$$", "$x^$"), fails the report."""
    return name.replace("$", r"\$")


def ranked(title: str, names: Sequence[str], values: Sequence[float], xlabel: str) -> bytes:
    """Horizontal bars, largest on top."""
    figure = Figure(figsize=(10, max(2.5, 0.35 * len(names) + 1)))
    axis = figure.subplots()
    order = sorted(range(len(names)), key=lambda i: values[i])
    axis.barh([_literal(names[i]) for i in order], [values[i] for i in order],
              color=UNPLANNED_COLOR)
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.grid(axis="x", alpha=0.3)
    return _png(figure)
