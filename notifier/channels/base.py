"""The one interface every channel implements, and the one error type it raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
