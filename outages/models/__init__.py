"""SQLAlchemy models of the domain. Bulk paths use their ``__table__`` with Core."""

from outages.models.alerts import Alert, Reopening
from outages.models.auth import ApiToken, AuditEntry, ConsoleSession, SignInFailure, User
from outages.models.base import Base
from outages.models.customers import Customer, SmsOptOut
from outages.models.named_areas import NamedArea
from outages.models.outages import (
    FaultReport,
    Interruption,
    Outage,
    OutageCustomer,
    PriorityCall,
    Revision,
)
from outages.models.subscriptions import Subscription, SubscriptionRequest
from outages.models.webhooks import EarlyStatus, TwilioEvent

__all__ = [
    "Alert",
    "ApiToken",
    "AuditEntry",
    "Base",
    "ConsoleSession",
    "Customer",
    "EarlyStatus",
    "FaultReport",
    "Interruption",
    "NamedArea",
    "Outage",
    "OutageCustomer",
    "PriorityCall",
    "Reopening",
    "Revision",
    "SignInFailure",
    "SmsOptOut",
    "Subscription",
    "SubscriptionRequest",
    "TwilioEvent",
    "User",
]
