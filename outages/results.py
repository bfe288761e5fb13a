"""The base of every typed result a domain function returns (an outage view, a customer, a
report...). The CLI prints `as_json()` with --json and renders its tables from the fields;
the API declares the same classes as response models, so /openapi.json describes them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _iso(value: datetime) -> str:
    return value.isoformat()


# A stored instant as JSON: `isoformat()` as before ("+00:00", not pydantic's "Z").
Instant = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class Result(BaseModel):
    """A domain answer. Optional keys that were not given stay out of the JSON (exclude_unset),
    so a view keeps exactly the keys it had when it was a dict; None values that were given
    are kept. Read access by key (`view["status"]`) works as it did on the dict."""

    # Undeclared keys are an error, not dropped silently: the JSON must lose no field.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    def _name(self, key: str) -> str:
        fields = type(self).model_fields
        if key in fields and key in self.model_fields_set:
            return key
        for name, info in fields.items():
            if info.alias == key and name in self.model_fields_set:
                return name
        raise KeyError(key)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._name(key))

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.keys()

    def keys(self) -> list[str]:
        fields = type(self).model_fields
        return [fields[name].alias or name for name in fields if name in self.model_fields_set]

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((key, self[key]) for key in self.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


# What a renderer reads by key: a typed result, or a plain row where one streams.
Row = Mapping[str, Any] | Result
