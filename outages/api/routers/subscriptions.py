"""Self-service subscriptions for staff: list them and end one (audited). A subscriber's
phone or email is personal data: roles without personal_data see it masked."""

from __future__ import annotations

from fastapi import Path, Query

from outages.api.bodies import json_router
from outages.api.deps import Dispatcher, EngineDep, Reader, SettingsDep, reading
from outages.db import write_transaction
from outages.enums import Source
from outages.registry import subscriptions
from outages.registry.subscriptions import SubscriptionView

router = json_router(prefix="/subscriptions", tags=["subscriptions"])
SubscriptionId = Path(ge=1, le=2**31 - 1, alias="id")


@router.get("", summary="Confirmed subscriptions, newest first")
def list_subscriptions(
    user: Reader, engine: EngineDep, settings: SettingsDep,
    customer: str | None = Query(None, max_length=64, description="only those to this code"),
    district: str | None = Query(None, max_length=100,
                                 description="only those to this district"),
    ended: bool = Query(False, description="ended subscriptions too"),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[SubscriptionView]:
    with reading(engine) as conn:
        return subscriptions.listing(conn, customer=customer, district=district,
                                     include_ended=ended, limit=limit,
                                     personal=user.can("personal_data"), tz=settings.tz)


@router.post("/{id}/remove", summary="End a subscription: it gets nothing more (audited)")
def remove(user: Dispatcher, engine: EngineDep, settings: SettingsDep,
           subscription_id: int = SubscriptionId) -> SubscriptionView:
    with write_transaction(engine) as conn:
        return subscriptions.remove(conn, subscription_id, actor=user.name, source=Source.HTTP,
                                    personal=user.can("personal_data"), tz=settings.tz)
