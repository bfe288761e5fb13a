"""The base of every typed result a domain function returns (an outage view, a customer, a
report...). The CLI prints `as_json()` with --json and renders its tables from the fields;
the API declares the same classes as response models, so /openapi.json describes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _iso(value: datetime) -> str:
    return value.isoformat()


# A stored instant as JSON: `isoformat()` as before ("+00:00", not pydantic's "Z").
Instant = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class Result(BaseModel):
    """A domain answer, read by attribute. Optional keys that were not given stay out of the
    JSON (exclude_unset), so a view keeps exactly the keys it had when it was a dict; None
    values that were given are kept. An optional field that was not given reads as its
    default (None): where given-or-not matters, ask `model_fields_set`."""

    # Undeclared keys are an error, not dropped silently: the JSON must lose no field.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)
