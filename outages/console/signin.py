"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from outages.access import sessions
from outages.access.sessions import SignIn
from outages.api.errors import log_refusal
from outages.api.limits import client_key
from outages.console.pages import LANGUAGES, console_root, render, request_language
from outages.console.session import (
    COOKIE,
    LANGUAGE_COOKIE,
    SIGN_IN_COOKIE,
    Signed,
    check_csrf,
    engine_of,
    settings_of,
)
from outages.db import write_transaction

router = APIRouter()
Text = Annotated[str, Form(max_length=200)]


def safe_next(request: Request, target: str | None) -> str:
    """`target` when it is a console path, else the cuts list (never another site)."""
    root = console_root(request)
    if target and target.startswith(root + "/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return root + "/cuts"


def _secure(request: Request) -> bool:
    return settings_of(request).http.public_base_url.lower().startswith("https://")


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    return RedirectResponse(console_root(request) + "/cuts", status_code=303)


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    token = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    response = await _form(request, token, next, status_code=200)
    _remember_language(request, response)
    return response


async def _form(request: Request, token: str, target: str | None, *, status_code: int,
                error: str | None = None, wait: int = 0, username: str = "") -> Response:
    response = await render(request, "sign_in.html", visitor=None, status_code=status_code,
                            sign_in_token=token, next=safe_next(request, target), error=error,
                            wait=wait, username=username)
    response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="lax",
                        secure=_secure(request), path=console_root(request) or "/")
    return response


def _remember_language(request: Request, response: Response) -> None:
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, chosen, samesite="lax", secure=_secure(request),
                            path=console_root(request) or "/", max_age=365 * 86400)


@router.post("/sign-in")
async def sign_in(request: Request, username: Text, password: Text,
                  next: Annotated[str | None, Form(max_length=2000)] = None,
                  ) -> Response:
    await check_csrf(request, request.cookies.get(SIGN_IN_COOKIE, ""))
    # An IPv6 client counts by its /64, as the public limits count it: one host draws a new
    # address from it at will.
    address = client_key(request.client.host if request.client else "unknown")
    language = request_language(request, None, settings_of(request))

    def attempt() -> SignIn:
        with write_transaction(engine_of(request)) as conn:
            return sessions.sign_in(conn, settings_of(request), name=username.strip(),
                                    password=password, address=address, language=language)

    outcome = await run_in_threadpool(attempt)
    token = request.cookies.get(SIGN_IN_COOKIE, "")
    if outcome.session is None or outcome.secret is None:
        wait = math.ceil(outcome.wait.total_seconds()) if outcome.wait else 0
        log_refusal(request, 429 if wait else 401)  # guessed credentials show in the logs
        response = await _form(request, token, next, status_code=429 if wait else 401,
                               error="sign_in_wait" if wait else "sign_in_wrong", wait=wait,
                               username=username)
        if wait:
            response.headers["Retry-After"] = str(wait)
        return response
    response = RedirectResponse(safe_next(request, next), status_code=303)
    response.set_cookie(COOKIE, outcome.secret, httponly=True, samesite="lax",
                        secure=_secure(request), path=console_root(request) or "/")
    response.delete_cookie(SIGN_IN_COOKIE, path=console_root(request) or "/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, visitor: Signed) -> Response:
    def end() -> None:
        with write_transaction(engine_of(request)) as conn:
            sessions.sign_out(conn, visitor.session.id)

    await run_in_threadpool(end)
    response = RedirectResponse(console_root(request) + "/sign-in?signed_out=1",
                                status_code=303)
    response.delete_cookie(COOKIE, path=console_root(request) or "/")
    return response


@router.post("/language")
async def language(request: Request, visitor: Signed,
                   lang: Annotated[str, Form(max_length=8)],
                   next: Annotated[str | None, Form(max_length=2000)] = None,
                   ) -> Response:
    def remember() -> None:
        with write_transaction(engine_of(request)) as conn:
            sessions.set_language(conn, visitor.session, lang)

    await run_in_threadpool(remember)
    return RedirectResponse(safe_next(request, next), status_code=303)
