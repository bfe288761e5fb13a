"""The subscription pages: ask for a customer code's or a district's notices, confirm with
the 6-digit code sent to the phone or email, and stop by the link in a subscriber's email.

Server-rendered forms that work without JavaScript. Any code gets the same answer, known or
not (see outages.notices.subscriptions); answers are never cached, and pages that carry a
request or a stop token send no Referer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse

from outages.api.deps import EngineDep, ReadConn, SettingsDep, public_rate_limit
from outages.api.limits import client_key
from outages.db import write_transaction
from outages.errors import NotFound, ValidationError
from outages.lifecycle import public
from outages.logs import mask
from outages.notices import subscriptions
from outages.registry import subscriptions as store
from outages.settings import Settings

router = APIRouter(prefix="/subscribe", tags=["public"],
                   dependencies=[Depends(public_rate_limit)])
PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
Lang = Literal["vi", "en"]
Token = Annotated[str, Form(alias="request", max_length=64)]
# A form field as a person sent it, checked by the route (which shows the form again).
FormText = Annotated[str, Form(max_length=2000)]
TARGET_MAX, CONTACT_MAX = 100, 120


def _lang(value: str) -> Lang:
    return "en" if value == "en" else "vi"

StopToken = Annotated[str, Path(max_length=120, description="the signed token from the email")]


@router.get("", response_class=HTMLResponse, summary="Subscription form (vi/en)")
def form(request: Request, conn: ReadConn, settings: SettingsDep, lang: Lang = "vi",
         target: str = Query("", max_length=100),
         kind: Literal["customer", "district", ""] = "") -> HTMLResponse:
    return _page(request, settings, lang, "form", target=target, kind=kind, language=lang,
                 districts=public.districts(conn))


@router.post("", response_class=HTMLResponse, responses={422: PAGE, 429: PAGE},
             summary="Ask for notices: a 6-digit code goes to the contact")
def ask(request: Request, engine: EngineDep, settings: SettingsDep,
        lang: FormText = "vi", kind: FormText = "customer", target: FormText = "",
        contact: FormText = "", language: FormText = "vi") -> HTMLResponse:
    # A form a person sent: whatever is wrong in it is shown on the form again, never as
    # JSON (a field too long, a value no option of the form gives).
    lang, language = _lang(lang), _lang(language)
    again = {"target": target[:TARGET_MAX], "contact": contact[:CONTACT_MAX],
             "kind": kind if kind in ("customer", "district") else "customer",
             "language": language}
    try:
        if kind not in ("customer", "district") or len(target) > TARGET_MAX:
            raise ValidationError("not a customer code or district", field="target")
        if len(contact) > CONTACT_MAX:
            raise ValidationError("not a phone number or email address", field="contact")
        _admit(engine, settings, request)
        with write_transaction(engine) as conn:
            token = subscriptions.request(conn, settings, target=target, contact_text=contact,
                                          language=language, kind=kind)
    except ValidationError as exc:
        error = "error_contact" if exc.field == "contact" else "error_target"
        return _form_again(request, engine, settings, lang, again, error, 422)
    except subscriptions.Limited:
        return _form_again(request, engine, settings, lang, again, "limited", 429)
    _channel, address = subscriptions.contact(settings, contact)
    return _confirm_page(request, settings, lang, token, mask(address))


@router.get("/confirm", response_class=HTMLResponse, summary="Enter the confirmation code")
def confirm_form(request: Request, conn: ReadConn, settings: SettingsDep, lang: Lang = "vi",
                 token: str = Query("", alias="request", max_length=64)) -> HTMLResponse:
    row = store.by_request(conn, token) if token else None
    if row is None:
        return _page(request, settings, lang, "invalid", error="invalid", status=404)
    return _confirm_page(request, settings, lang, token, mask(row.contact))


@router.post("/confirm", response_class=HTMLResponse,
             responses={404: PAGE, 422: PAGE, 429: PAGE},
             summary="Confirm a subscription with its code")
def confirm(request: Request, engine: EngineDep, settings: SettingsDep, token: Token,
            code: FormText = "", lang: FormText = "vi") -> HTMLResponse:
    lang, code = _lang(lang), code[:12]  # a longer code is a wrong one
    try:
        with write_transaction(engine) as conn:
            state = subscriptions.confirm(conn, settings, token=token, code=code)
            left = subscriptions.attempts_left(conn, settings, token)
            row = store.by_request(conn, token)
    except subscriptions.Limited:  # the contact confirmed as many as it may meanwhile
        return _page(request, settings, lang, "invalid", error="limited", status=429)
    if state == "confirmed":
        return _page(request, settings, lang, "done")
    if state == "invalid" or row is None:
        return _page(request, settings, lang, "invalid", error="invalid", status=404)
    return _confirm_page(request, settings, lang, token, mask(row.contact), error=state,
                         left=left, status=422)


@router.post("/resend", response_class=HTMLResponse, responses={404: PAGE, 429: PAGE},
             summary="Send the confirmation code again")
def resend(request: Request, engine: EngineDep, settings: SettingsDep, token: Token,
           lang: FormText = "vi") -> HTMLResponse:
    lang = _lang(lang)
    try:
        _admit(engine, settings, request)
        with write_transaction(engine) as conn:
            state = subscriptions.resend(conn, settings, token=token)
            row = store.by_request(conn, token)
    except subscriptions.Limited:
        return _page(request, settings, lang, "invalid", error="limited", status=429)
    if state == "invalid" or row is None:
        return _page(request, settings, lang, "invalid", error="invalid", status=404)
    return _confirm_page(request, settings, lang, token, mask(row.contact),
                         notice="resent" if state == "sent" else "wait")


@router.get("/stop/{token}", response_class=HTMLResponse, responses={404: PAGE},
            summary="Ask to confirm stopping a subscription's notices")
def stop_form(token: StopToken, request: Request, conn: ReadConn,
              settings: SettingsDep) -> HTMLResponse:
    try:
        row = subscriptions.by_link(conn, settings, token)
    except NotFound:
        return _page(request, settings, settings.locale.default_language, "stop_invalid",
                     status=404)
    state = "stop_done" if row.status == store.Status.ENDED else "stop_ask"
    return _page(request, settings, row.language, state)


@router.post("/stop/{token}", response_class=HTMLResponse, responses={404: PAGE},
             summary="Stop a subscription's notices (one click, as emails' List-Unsubscribe)")
def stop(token: StopToken, request: Request, engine: EngineDep,
         settings: SettingsDep) -> HTMLResponse:
    try:
        with write_transaction(engine) as conn:
            language = subscriptions.stop_by_link(conn, settings, token)
    except NotFound:
        return _page(request, settings, settings.locale.default_language, "stop_invalid",
                     status=404)
    return _page(request, settings, language, "stop_done")


def _admit(engine: EngineDep, settings: Settings, request: Request) -> None:
    """Count the request against its client address first, whatever becomes of it."""
    client = client_key(request.client.host if request.client else "unknown")
    with write_transaction(engine) as conn:
        subscriptions.admit(conn, settings, client=client)


def _form_again(request: Request, engine: EngineDep, settings: Settings, lang: str,
                again: dict[str, Any], error: str, status: int) -> HTMLResponse:
    with engine.connect() as conn:
        districts = public.districts(conn)
    return _page(request, settings, lang, "form", error=error, districts=districts,
                 status=status, **again)


def _confirm_page(request: Request, settings: Settings, lang: str, token: str, masked: str,
                  **extra: Any) -> HTMLResponse:
    minutes = int(settings.subscriptions.code_ttl.total_seconds() // 60)
    return _page(request, settings, lang, "confirm", request_token=token, masked=masked,
                 minutes=minutes, **extra)


def _page(request: Request, settings: Settings, lang: str, state: str, *, status: int = 200,
          **context: Any) -> HTMLResponse:
    lang = lang if lang in ("vi", "en") else settings.locale.default_language
    values = {"target": "", "kind": "", "contact": "", "language": lang, "districts": [],
              "error": None, "notice": None, "left": 0, **context}
    html = request.app.state.pages.get_template("subscribe.html").render(
        lang=lang, state=state, hotline=settings.notices.hotline,
        root=request.scope.get("root_path", "").rstrip("/"), **values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
