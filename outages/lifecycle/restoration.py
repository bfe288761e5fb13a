"""Step restoration, shared by planned cuts and fault incidents.

A step gives power back to all remaining customers, to those inside a part of the area, or to
a list of customer codes. Each restored customer's interruption ends at the step's time; the
outage completes when nobody is left.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, func, select, update

from geo import Area
from outages import timeutil
from outages.db import write_transaction
from outages.enums import DONE, CutStatus, IncidentStatus, OutageKind
from outages.errors import Conflict, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle.results import OutageView, RestoreStep
from outages.lifecycle.views import describe
from outages.registry.matching import customers_in_area
from outages.settings import Settings
from outages.timeutil import iso_local

LISTED = 10  # codes named in an error message; the rest are counted


def read_codes(path: Path) -> list[str]:
    """One code per line, or a CSV with a `code` column; blank lines ignored, order kept."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="customers") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text: save it as UTF-8 and try again",
                              field="customers") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and "code" in [h.strip().lower() for h in lines[0].split(",")]:
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        key = next(h for h in reader.fieldnames or [] if h.strip().lower() == "code")
        codes = [(r.get(key) or "").strip() for r in reader]
    else:
        codes = [line.split(",")[0].strip() for line in lines]
    codes = list(dict.fromkeys(c for c in codes if c))
    if not codes:
        raise ValidationError(f"{path} lists no customer codes", field="customers")
    return codes


def restore(
    conn: Connection,
    settings: Settings,
    row: Row[Any],
    *,
    at: datetime | None,
    area: Area | None,
    codes: Sequence[str] | None,
    actor: str,
    source: str,
) -> tuple[Row[Any], dict[str, Any]]:
    """One restoration step inside the caller's transaction; returns the row after it and
    what the step did."""
    if area is not None and codes:
        raise ValidationError("give either an area or customers, not both", field="area")
    at = lc.not_future(at, field="at", what="restoration time", settings=settings)
    if at < row.actual_start:
        raise ValidationError(
            f"restoration time {timeutil.show_local(at, settings.tz)} is before the outage "
            f"started ({timeutil.show_local(row.actual_start, settings.tz)})", field="at")
    state = _interruption_state(conn, row.id)
    targets = _targets(conn, row, state, area=area, codes=codes)
    conn.execute(update(lc.INTERRUPTIONS).where(
        lc.INTERRUPTIONS.c.outage_id == row.id,
        lc.INTERRUPTIONS.c.customer_id == bindparam("cid"),
        lc.INTERRUPTIONS.c.end_at.is_(None),
    ).values(end_at=at), [{"cid": cid} for cid in targets])
    remaining = lc.count_open(conn, row.id)
    values: dict[str, Any] = {}
    if remaining == 0:  # over when the last customer came back, whatever step said so last
        last_back = conn.execute(select(func.max(lc.INTERRUPTIONS.c.end_at)).where(
            lc.INTERRUPTIONS.c.outage_id == row.id)).scalar()
        values = {"status": DONE[row.kind], "actual_end": max(at, last_back or at)}
    step = {"restored": len(targets), "remaining": remaining,
            "scope": "area" if area else "customers" if codes else "all"}
    after = lc.change(conn, row, action="restored", actor=actor, source=source, values=values,
                      details={**step, "at": iso_local(at, settings.tz)})
    lc.publish(conn, settings, after, "restored", actor=actor, customer_ids=targets,
               restored_at=at, step_area=area.geometry if area is not None else None)
    return after, step


def check_restorable(row: Row[Any]) -> None:
    if row.status in (CutStatus.COMPLETED, IncidentStatus.RESTORED):
        raise Conflict(f"outage {row.id} is already {row.status}: every customer has power")
    if row.status == CutStatus.CANCELLED:
        raise Conflict(f"cut {row.id} was cancelled; there is nothing to restore")
    if row.actual_start is None:
        raise Conflict(f"outage {row.id} has no recorded start: record it first",
                       hint="start_cut" if row.kind == OutageKind.PLANNED else "confirm_fault")


def _interruption_state(conn: Connection, outage_id: int) -> dict[int, bool]:
    """customer id -> still out?"""
    query = select(lc.INTERRUPTIONS.c.customer_id, lc.INTERRUPTIONS.c.end_at.is_(None)).where(
        lc.INTERRUPTIONS.c.outage_id == outage_id)
    return {int(cid): bool(out) for cid, out in conn.execute(query)}


def _targets(
    conn: Connection,
    row: Row[Any],
    state: dict[int, bool],
    *,
    area: Area | None,
    codes: Sequence[str] | None,
) -> list[int]:
    if codes:
        return _targets_by_code(conn, row, state, codes)
    if area is not None:
        inside = customers_in_area(conn, area).ids
        targets = [int(i) for i in inside if state.get(int(i))]
        if not targets:
            raise ValidationError(
                f"none of the {sum(state.values())} customers still out in outage {row.id} "
                "is inside that area: check the file", field="area")
        return targets
    targets = [cid for cid, out in state.items() if out]
    if not targets:
        raise Conflict(f"outage {row.id} has nobody left to restore")
    return targets


def _targets_by_code(
    conn: Connection, row: Row[Any], state: dict[int, bool], codes: Sequence[str]
) -> list[int]:
    codes = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    found = lc.ids_for_codes(conn, codes)
    problems = [
        ("unknown customer code", [c for c in codes if c not in found]),
        (f"not affected by outage {row.id}", [c for c in codes if c in found
                                              and found[c] not in state]),
        ("already restored", [c for c in codes if c in found and state.get(found[c]) is False]),
    ]
    messages = [_named(label, bad) for label, bad in problems if bad]
    if messages:
        raise ValidationError("; ".join(messages) + ". Nothing was restored: fix the list",
                              field="customers")
    return [found[c] for c in codes]


def _named(label: str, codes: list[str]) -> str:
    shown = ", ".join(codes[:LISTED])
    more = f" and {len(codes) - LISTED} more" if len(codes) > LISTED else ""
    return f"{len(codes)} {label}: {shown}{more}"


def restore_outage(
    engine: Engine, settings: Settings, *, outage_id: int, kind: str, at: datetime | None,
    area: Area | None, codes: Sequence[str] | None, actor: str, source: str,
    seen: int | None = None
) -> OutageView:
    """One restoration step of a cut or an incident, as one transaction; the view after it
    with the step's figures under "step". `seen`: see lc.load."""
    with write_transaction(engine) as conn:
        row = lc.load(conn, outage_id, kind=kind, lock=True, seen=seen)
        check_restorable(row)
        after, step = restore(conn, settings, row, at=at, area=area, codes=codes,
                              actor=actor, source=source)
        view = describe(conn, settings, after, breakdown=False)
    view.step = RestoreStep.model_validate(step)
    return view
