"""How domain values become JSON, the same for the CLI's --json and the HTTP API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any


def json_default(value: Any) -> Any:
    """`default=` for json.dumps: typed results as their JSON, dates as ISO 8601, durations in
    seconds, numpy as lists."""
    # Imported here: the typed results bring pydantic, which `outages --help` never needs.
    from outages.results import Result

    if isinstance(value, Result):
        return value.as_json()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")
