"""Domain errors and request validation errors as JSON: what is wrong and where.

Every error body has the same shape: {"detail": message, "field": name or null,
"errors": [{"field": ..., "reason": ...}, ...]}.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from outages.errors import OutagesError

log = logging.getLogger(__name__)


def error_body(reason: str, field: str | None = None,
               errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"detail": reason, "field": field,
            "errors": errors if errors is not None else [{"field": field, "reason": reason}]}


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "area", 0) reads better as body.area[0]; the "body" prefix names the part.
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# Domain fields whose name in the request differs: the domain takes a point, the request
# gives lon and lat; the domain's channel is the report's source; an imported file is the
# upload's `file` part.
_REQUEST_FIELD = {"point": "lon", "channel": "source", "path": "file"}

# Each hint key the domain may give, as an API client acts on it; appended to the detail.
HINTS = {
    "allow_empty": ' or send "allow_empty": true',
    "repair": " or let /areas/preview?repair=true repair it",
    "urgent": '. For an emergency send "urgent": true with an "urgent_reason"',
    "one_scope": ' ("area", "feeders" or "auto")',
    "one_caller": ' ("customer", "phone", or "lon" and "lat")',
    "which_customer": ' with "customer"',
    "restore_fault": " with POST /faults/{id}/restore",
    "dismiss_fault": " with POST /faults/{id}/dismiss",
    "extend_cut": ": give a started cut a new expected end with POST /cuts/{id}/extend",
    "place_or_account": ': give the place as "lon" and "lat" or the account as "customer"',
    "changed": ": read it again (GET) and send the change with its new revision if it still "
               "holds",
    "db_upgrade": ": the operator must run 'outages db upgrade'",
    "list_cuts": ": see GET /cuts",
    "list_faults": ": see GET /faults",
    "list_users": ": see GET /users",
    "list_tokens": ": see GET /tokens",
    "use_cuts": ": use /cuts/{id}",
    "use_faults": ": use /faults/{id}",
    "start_cut": " with POST /cuts/{id}/start",
    "confirm_fault": " with POST /faults/{id}/confirm",
}


def request_field(field: str | None) -> str | None:
    """The request's name for the field a domain error names."""
    return None if field is None else _REQUEST_FIELD.get(field, field)


def describe(exc: OutagesError) -> str:
    return exc.message + HINTS.get(exc.hint or "", "")


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OutagesError)
    return JSONResponse(error_body(describe(exc), request_field(exc.field)),
                        status_code=exc.http_status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(item.get("loc", ())), "reason": item.get("msg", "invalid")}
              for item in exc.errors()]
    first = errors[0] if errors else {"field": None, "reason": "invalid request"}
    return JSONResponse(error_body(str(first["reason"]), first["field"], errors),
                        status_code=422)


# Refusals an operator watches for: guessed tokens, roles probing, clients over the limit.
_WATCHED = frozenset({401, 403, 429})


def log_refusal(request: Request, status: int) -> None:
    """One line per refused request: status, method, the route's template (not the path,
    which may carry a customer code), and the client address; never the token or the body."""
    route = getattr(request.scope.get("route"), "path", None) or "unmatched"
    client = request.client.host if request.client else "unknown"
    log.warning("refused %s %s %s from %s", status, request.method, route, client)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code in _WATCHED:
        log_refusal(request, exc.status_code)
    return JSONResponse(error_body(str(exc.detail)), status_code=exc.status_code,
                        headers=exc.headers)


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the request carried (PostgreSQL rejects NUL characters
    # in text, for one); the transaction rolled back, so it is the client's input at fault.
    log.info("request value refused by the database: %s", getattr(exc, "orig", exc))
    return JSONResponse(error_body("a value in the request is not acceptable (too long, or "
                                   "containing a NUL character)"), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OutagesError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    _declare_error_body(app)


# The body every refusal has (error_body), as /openapi.json declares each 422: FastAPI's
# own HTTPValidationError (a list of {loc, msg, type}) is not what these handlers send.
ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["detail", "field", "errors"],
    "properties": {
        "detail": {"type": "string", "description": "what is wrong and how to fix it"},
        "field": {"type": ["string", "null"], "description": "the field it concerns"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "reason"],
            "properties": {"field": {"type": ["string", "null"]},
                           "reason": {"type": "string"}}}},
    },
}


# The refusals a route may answer besides 422, by what the route is: one behind a bearer
# token, one naming a resource in its path, one changing such a resource.
REFUSALS = {
    "401": "no bearer token, or one unknown, revoked or disabled",
    "403": "the token's role may not do this",
    "404": "nothing has that id or code",
    "409": "its state does not allow this now, or it changed since the revision given",
}
CHANGES = frozenset({"post", "put", "patch", "delete"})


def _declare_error_body(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.pop("ValidationError", None)
            schemas["HTTPValidationError"] = ERROR_SCHEMA
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    _declare_refusals(path, method, operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_refusals(path: str, method: str, operation: dict[str, Any]) -> None:
    names = []
    if operation.get("security"):
        names += ["401", "403"]
    if "{" in path:
        names.append("404")
        if method in CHANGES:
            names.append("409")
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
    responses = operation.setdefault("responses", {})
    for name in names:
        responses.setdefault(name, {"description": REFUSALS[name], "content": body})
