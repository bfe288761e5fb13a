"""Channel registry: the channels notices are queued on, by name, in queueing order.

A new channel is one module here (a `ProviderChannel` subclass) and one line below.
"""

from __future__ import annotations

from notifier.channels.base import Channel, DeliveryError, Message, ProviderChannel, Receipt
from notifier.channels.console import ConsoleChannel
from notifier.channels.email import EmailChannel
from notifier.channels.sms import SmsChannel
from notifier.channels.webhook import WebhookChannel
from notifier.channels.zalo import ZaloChannel

REGISTRY: dict[str, type[ProviderChannel]] = {channel.name: channel for channel in (
    SmsChannel,
    EmailChannel,
    ZaloChannel,
)}

__all__ = ["REGISTRY", "Channel", "ConsoleChannel", "DeliveryError", "EmailChannel", "Message",
           "ProviderChannel", "Receipt", "SmsChannel", "WebhookChannel", "ZaloChannel"]
