"""The one interface every channel implements, and the one error type it raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    id: int
    key: str
    channel: str
    recipient: str
    language: str
    kind: str
    body: str
    subject: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class Receipt:
    provider_id: str | None
    status: str = "sent"


class DeliveryError(Exception):
    """A failed send. `permanent` errors are never retried; `outcome` names what the domain
    should record about the contact ('phone_invalid', 'sms_opt_out', 'email_invalid')."""

    def __init__(self, message: str, *, code: str, permanent: bool,
                 outcome: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        self.outcome = outcome


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> Receipt: ...

    def close(self) -> None: ...


@runtime_checkable
class Lookup(Protocol):
    """A channel whose provider can say whether a message was already accepted: used after a
    crash, for rows whose send may or may not have happened."""

    def lookup(self, message: Message, since: datetime) -> Receipt | None: ...
