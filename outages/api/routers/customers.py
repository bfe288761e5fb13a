"""The customer registry over HTTP: import by upload and contact changes (admins), look-ups
(any role; personal data only for roles that need it)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import File, Path, Query, UploadFile
from pydantic import Field

from outages.api import bodies
from outages.api.bodies import Body, json_router
from outages.api.deps import Admin, EngineDep, Reader, SettingsDep, reading, redact
from outages.db import write_transaction
from outages.enums import Source
from outages.errors import ValidationError
from outages.registry import customers
from outages.registry.results import CustomerImport, CustomerPage, CustomerView

router = json_router(prefix="/customers", tags=["customers"])
Code = Path(min_length=1, max_length=64)


class Changes(Body):
    """Only the fields sent are changed; null or "" clears a phone or email."""

    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    language: Literal["vi", "en"] | None = None
    sms_opt_out: bool | None = None
    email_opt_out: bool | None = None
    priority: Literal["life_support", "medical", "critical_facility", ""] | None = Field(
        None, description='A priority customer\'s kind; null or "" clears it.')
    channels: str | None = Field(None, max_length=64,
                                 description='In order of preference, e.g. "zalo,sms,email"')


@router.post("/import", summary="Upsert customers from an uploaded CSV or GeoJSON file")
def import_file(user: Admin, engine: EngineDep, settings: SettingsDep,
                file: UploadFile = File(description="CSV with a header row, or a GeoJSON "
                                        "FeatureCollection of Point features")) -> CustomerImport:
    with bodies.uploaded(file) as path:
        result = customers.import_registry(engine, settings, path, actor=user.name,
                                           source=Source.HTTP)
        rejects = bodies.rejects_text(result.rejects_file)
    return CustomerImport(imported=result.imported, updated=result.updated,
                          rejected=result.rejected, rejects_file=None, rejects_csv=rejects,
                          samples=result.samples)


@router.get("", summary="Customers ordered by code, filtered, a page at a time",
            response_model=CustomerPage)
def list_customers(
    user: Reader, engine: EngineDep, settings: SettingsDep,
    region: str | None = Query(None, max_length=100),
    district: str | None = Query(None, max_length=100),
    feeder: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=0, le=10_000),
    offset: int = Query(0, ge=0, le=100_000_000),
) -> Any:
    filters: dict[str, Any] = {"region": region, "district": district, "feeder": feeder}
    with reading(engine) as conn:
        total = customers.count_customers(conn, **filters)
        rows = customers.list_customers(conn, **filters, limit=limit, offset=offset)
    views = [customers.customer_view(r, settings.tz) for r in rows]
    return {"total": total, "limit": limit, "offset": offset,
            "customers": redact(views, user)}


@router.get("/{code}", summary="One customer with every field", response_model=CustomerView)
def show(user: Reader, engine: EngineDep, settings: SettingsDep,
         code: str = Code) -> Any:
    with reading(engine) as conn:
        view = customers.customer_view(customers.get_customer(conn, code), settings.tz)
    return redact(view, user)


@router.patch("/{code}", summary="Change contact details, language, opt-outs or priority "
              "(audited)")
def update(body: Changes, user: Admin, engine: EngineDep, settings: SettingsDep,
           code: str = Code) -> CustomerView:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationError("give at least one of phone, email, language, sms_opt_out, "
                              "email_opt_out, priority, channels", field="body")
    with write_transaction(engine) as conn:
        row = customers.update_customer(conn, code, changes=changes, actor=user.name,
                                        source=Source.HTTP, settings=settings)
    return customers.customer_view(row, settings.tz)
