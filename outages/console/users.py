"""Users for admins: list, add, disable, set a console password (each audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from outages.access import auth, passwords
from outages.access.results import UserView
from outages.api.deps import reading
from outages.console.pages import console_root, render
from outages.console.session import CanManage, Visitor, engine_of
from outages.db import write_transaction
from outages.enums import Role, Source
from outages.errors import OutagesError

router = APIRouter()
Name = Annotated[str, Form(min_length=1, max_length=100)]
Password = Annotated[str, Form(max_length=200)]


async def _page(request: Request, visitor: Visitor, *, status_code: int = 200,
                errors: dict[str, dict[str, str]] | None = None,
                values: dict[str, dict[str, str]] | None = None) -> Response:
    def read() -> list[UserView]:
        with reading(engine_of(request)) as conn:
            return auth.list_users(conn)

    return await render(request, "users.html", visitor=visitor, status_code=status_code,
                        users=await run_in_threadpool(read), roles=list(Role),
                        errors=errors or {}, values=values or {},
                        done=request.query_params.get("done", ""))


async def _change(request: Request, visitor: Visitor, action: str, values: dict[str, str],
                  change: Callable[[Connection], object]) -> Response:
    def run() -> None:
        with write_transaction(engine_of(request)) as conn:
            change(conn)

    try:
        await run_in_threadpool(run)
    except OutagesError as exc:
        return await _page(request, visitor, status_code=exc.http_status,
                           errors={action: {exc.field or "form": exc.message}},
                           values={action: values})
    return RedirectResponse(f"{console_root(request)}/users?done={action}", status_code=303)


@router.get("/users")
async def users(request: Request, visitor: CanManage) -> Response:
    return await _page(request, visitor)


@router.post("/users")
async def add(request: Request, visitor: CanManage, name: Name,
              role: Annotated[str, Form(max_length=16)], password: Password = "") -> Response:
    def change(conn: Connection) -> None:
        auth.add_user(conn, name=name, role=role, actor=visitor.name, source=Source.CONSOLE)
        if password:
            passwords.set_password(conn, name=name.strip(), password=password,
                                   actor=visitor.name, source=Source.CONSOLE)

    return await _change(request, visitor, "add", {"name": name, "role": role}, change)


@router.post("/users/{name}/disable")
async def disable(request: Request, visitor: CanManage, name: str) -> Response:
    def change(conn: Connection) -> None:
        auth.disable_user(conn, name=name, actor=visitor.name, source=Source.CONSOLE)

    return await _change(request, visitor, "disable", {"name": name}, change)


@router.post("/users/{name}/password")
async def set_password(request: Request, visitor: CanManage, name: str,
                       password: Password) -> Response:
    def change(conn: Connection) -> None:
        passwords.set_password(conn, name=name, password=password, actor=visitor.name,
                               source=Source.CONSOLE)

    return await _change(request, visitor, "password", {"name": name}, change)
