"""Channel registry: a logical channel name to the class that delivers it."""

from __future__ import annotations

from notifier.channels.base import Channel, DeliveryError, Message, Receipt
from notifier.channels.console import ConsoleChannel
from notifier.channels.email import EmailChannel
from notifier.channels.sms import SmsChannel

REGISTRY: dict[str, type] = {
    "sms": SmsChannel,
    "email": EmailChannel,
    "console": ConsoleChannel,
}

__all__ = ["REGISTRY", "Channel", "ConsoleChannel", "DeliveryError", "EmailChannel", "Message",
           "Receipt", "SmsChannel"]
