"""One-click email unsubscribe (RFC 8058), reached from the link in every notice email.

No login: the signed token in the path is the only authority, and it opts out only the
customer it was made for. GET shows a page asking to confirm (mail scanners follow links,
so a GET changes nothing); POST, as sent by the page's button or by a mail provider's
one-click "Unsubscribe" with `List-Unsubscribe=One-Click`, stops the emails. The answer
names nobody and is never cached, and the page sends no Referer carrying the token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from outages.api.deps import (
    EngineDep,
    ReadConn,
    SettingsDep,
    count_public,
    public_rate_limit,
)
from outages.db import write_transaction
from outages.errors import NotFound
from outages.notices import unsubscribe
from outages.settings import Settings

router = APIRouter(prefix=unsubscribe.PATH, tags=["public"])
Limited = Depends(public_rate_limit)
Token = Annotated[str, Path(max_length=120, description="the signed token from the email")]
PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/{token}", response_class=HTMLResponse, summary="Ask to confirm stopping emails",
            responses={404: PAGE}, dependencies=[Limited])
def confirm(token: Token, request: Request, conn: ReadConn,
            settings: SettingsDep) -> HTMLResponse:
    try:
        row = unsubscribe.customer(conn, settings, token)
    except NotFound:
        return _page(request, settings, "invalid", None, status=404)
    return _page(request, settings, "done" if row.email_opt_out else "ask", row.language)


@router.post("/{token}", response_class=HTMLResponse, summary="Stop notice emails (one click)",
             responses={404: PAGE})
def one_click(token: Token, request: Request, engine: EngineDep,
              settings: SettingsDep) -> HTMLResponse:
    # The body ("List-Unsubscribe=One-Click") says nothing the path does not: it is not read.
    # Only a refused link counts against the client's address: a mail provider sends every
    # one-click POST of a large mailing from a few servers, and each must stop its emails.
    try:
        with write_transaction(engine) as conn:
            language = unsubscribe.opt_out(conn, settings, token)
    except NotFound:
        count_public(request)
        return _page(request, settings, "invalid", None, status=404)
    return _page(request, settings, "done", language)


def _page(request: Request, settings: Settings, state: str, language: Any, *,
          status: int = 200) -> HTMLResponse:
    lang = language if language in ("vi", "en") else settings.locale.default_language
    html = request.app.state.pages.get_template("unsubscribe.html").render(
        lang=lang, state=state, hotline=settings.notices.hotline,
        root=request.scope.get("root_path", "").rstrip("/"))
    return HTMLResponse(html, status_code=status, headers=HEADERS)
