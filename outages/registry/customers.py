"""The customer registry: look-ups, listing with filters, and audited contact changes.

The bulk import lives in outages.registry.importer; both validate with the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select, update

from outages.access import audit
from outages.db import write_transaction
from outages.errors import NotFound, OutagesError, ValidationError
from outages.models import Customer
from outages.registry import optout
from outages.registry.contacts import PhoneNormalizer, email_problem, language_problem
from outages.registry.importer import ImportResult, Progress, import_customers
from outages.registry.results import CustomerView
from outages.registry.rows import MAX_LENGTH, composed, priority_problem
from outages.settings import Settings, channel_preference
from outages.timeutil import iso_local, utcnow

__all__ = ["UPDATABLE", "ImportResult", "count_customers", "customer_view", "get_customer",
           "import_customers", "import_registry", "list_customers", "update_customer"]

_t = Customer.__table__
_c = _t.c
UPDATABLE = ("name", "phone", "email", "address", "language", "sms_opt_out", "email_opt_out",
             "priority", "channels")


def get_customer(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(select(_t).where(_c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no customer with code {code!r}", field="code")
    return dict(row)


def _filtered(query: Select[Any], region: str | None, district: str | None,
              feeder: str | None) -> Select[Any]:
    for column, value in ((_c.region, region), (_c.district, district), (_c.feeder, feeder)):
        if value:
            query = query.where(column == value)
    return query


def list_customers(
    conn: Connection,
    *,
    region: str | None = None,
    district: str | None = None,
    feeder: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A page of customers ordered by code."""
    if limit < 0 or offset < 0:
        raise ValidationError("limit and offset must be zero or more", field="limit")
    query = _filtered(select(_t), region, district, feeder).order_by(_c.code)
    rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
    return [dict(row) for row in rows]


def count_customers(
    conn: Connection,
    *,
    region: str | None = None,
    district: str | None = None,
    feeder: str | None = None,
) -> int:
    query = _filtered(select(func.count()).select_from(_t), region, district, feeder)
    return int(conn.execute(query).scalar_one())


def update_customer(
    conn: Connection,
    code: str,
    *,
    changes: Mapping[str, Any],
    actor: str,
    source: str,
    settings: Settings,
) -> dict[str, Any]:
    """Change contact fields, language, opt-out flags or priority of one customer, audited with the
    values before and after. Empty text clears a field. Returns the customer as stored."""
    current = get_customer(conn, code)
    wanted = _validated(settings, changes)
    if wanted.get("sms_opt_out") is False and current["phone"]:
        # The customer asked for texts again: their number's STOP no longer holds either.
        optout.mark_number(conn, current["phone"], False, actor=actor, source=source)
    changed = {k: v for k, v in wanted.items() if current[k] != v}
    if not changed:
        return current
    # A new address has not been refused yet.
    for contact in ("phone", "email"):
        if contact in changed and current[f"{contact}_invalid"]:
            changed[f"{contact}_invalid"] = False
    if "phone" in changed and current["zalo_absent_at"] is not None:
        changed["zalo_absent_at"] = None  # nor been found without a Zalo account
    conn.execute(update(Customer).where(Customer.id == current["id"])
                 .values(**changed, updated_at=utcnow()))
    audit.record(conn, actor=actor, source=source, action="customer.update", entity="customer",
                 entity_id=code, before={k: _plain(current[k]) for k in changed},
                 after={k: _plain(v) for k, v in changed.items()})
    return get_customer(conn, code)


def _validated(settings: Settings, changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValidationError(f"cannot change {', '.join(unknown)}; changeable: "
                              f"{', '.join(UPDATABLE)}", field=unknown[0])
    result: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("sms_opt_out", "email_opt_out"):
            if not isinstance(value, bool):
                raise ValidationError("must be true or false", field=key)
            result[key] = value
        else:
            result[key] = _text_field(settings, key, value)
    return result


def _text_field(settings: Settings, key: str, value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        if key == "language":
            raise ValidationError("language cannot be empty: use vi or en", field=key)
        return None
    problem: str | None = None
    if key == "phone":
        phone, problem = PhoneNormalizer(settings.locale.phone_region).normalize(text)
        text = phone or text
    elif key == "email":
        problem = email_problem(text)
    elif key == "language":
        text = text.lower()
        problem = language_problem(text)
    elif key == "priority":
        text, problem = priority_problem(text)
    elif key == "channels":
        try:
            text = channel_preference(text)
        except ValueError as exc:
            problem = str(exc)
    else:
        text = composed(text)  # as the import stores it
        if len(text) > MAX_LENGTH[key]:
            problem = f"is {len(text)} characters long, more than the limit of {MAX_LENGTH[key]}"
    if problem:
        raise ValidationError(problem, field=key)
    return text


def customer_view(row: Mapping[str, Any], tz: Any) -> CustomerView:
    """A customer for JSON: dates as YYYY-MM-DD, timestamps in local time with offset."""
    view = {k: v for k, v in row.items() if k != "id"}
    for key in ("connected_on", "disconnected_on"):
        view[key] = row[key].isoformat() if row[key] else None
    for key in ("created_at", "updated_at", "zalo_absent_at"):
        view[key] = iso_local(row[key], tz)
    return CustomerView.model_validate(view)


def import_registry(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    actor: str,
    source: str,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a registry file (see customer_import) and record who did it in the audit log,
    also when an error stopped it after some batches were stored."""
    result = ImportResult()
    try:
        import_customers(engine, settings, path, rejects_path=rejects_path, progress=progress,
                         result=result)
    except OutagesError as exc:
        if result.imported or result.updated:
            _audit_import(engine, result, actor=actor, source=source, path=path,
                          stopped=exc.message)
        raise
    _audit_import(engine, result, actor=actor, source=source, path=path)
    return result


def _audit_import(engine: Engine, result: ImportResult, *, actor: str, source: str,
                  path: Path, stopped: str | None = None) -> None:
    counts = result.as_json()
    after: dict[str, Any] = {k: counts[k] for k in ("imported", "updated", "rejected")}
    if stopped is not None:
        after["stopped"] = stopped
    with write_transaction(engine) as conn:
        audit.record(conn, actor=actor, source=source, action="customers.import",
                     entity="customer", entity_id=Path(path).name, after=after)


def _plain(value: Any) -> Any:
    """A stored value as the audit log keeps it (a time as ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime) else value
