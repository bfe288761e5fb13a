"""The one interface every channel implements, and the one error type it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from notifier.enums import Outcome
from notifier.render import Rendered, Templates


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
    # Where the recipient stops these messages in one click (an email's List-Unsubscribe).
    unsubscribe: str | None = None


@dataclass(frozen=True)
class Receipt:
    provider_id: str | None


class DeliveryError(Exception):
    """A failed send. `permanent` errors are never retried; `outcome` says what the failure
    tells about the recipient's address, for the domain to record."""

    def __init__(self, message: str, *, code: str, permanent: bool,
                 outcome: Outcome | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        self.outcome = outcome


class Channel(Protocol):
    def send(self, message: Message) -> Receipt: ...

    def close(self) -> None: ...


class ProviderChannel(ABC):
    """A channel notices are queued on. The class declares everything the domain needs to
    queue, price and configure it, so adding one touches no other code that moves notices;
    only its settings section is declared with the others, in `outages/settings.py`."""

    name: ClassVar[str]  # stored in outbox.channel and the template folder's name
    contact: ClassVar[str]  # the recipient's field holding the address ("phone", "email")
    provider: ClassVar[str]  # the settings section configuring it, and the name shown
    templates: ClassVar[Templates]
    price_setting: ClassVar[str]  # the [notices] setting holding the price of one message
    priced_per_segment: ClassVar[bool] = False
    # Where a notice goes when this channel fails it for good (None: nowhere).
    fallback: ClassVar[str | None] = None
    # Its messages carry the recipient's one-click opt-out link (Message.unsubscribe).
    carries_unsubscribe: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def configured(cls, config: Mapping[str, Any]) -> bool:
        """Whether `config` (its settings section, as plain values) can reach the provider."""

    @classmethod
    @abstractmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Self: ...

    @classmethod
    def cost(cls, rendered: Rendered, price: float) -> float:
        return price * (rendered.segments if cls.priced_per_segment else 1)

    @abstractmethod
    def send(self, message: Message) -> Receipt: ...

    @abstractmethod
    def close(self) -> None: ...


# The error code of a send whose request may have reached the provider: its answer never
# came (a read timeout, a connection dropped mid-answer). The retry asks first (Lookup).
MAYBE_SENT = "maybe_sent"


@runtime_checkable
class Lookup(Protocol):
    """A channel whose provider can say whether a message was already accepted: used after a
    crash, and before retrying a send that ended MAYBE_SENT, for rows whose send may or may
    not have happened."""

    def lookup(self, message: Message, since: datetime) -> Receipt | None: ...
