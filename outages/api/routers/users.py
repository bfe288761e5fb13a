"""Users and tokens (admins), and who am I (anyone with a token)."""

from __future__ import annotations

from fastapi import Path, Query
from pydantic import Field

from outages.access import auth
from outages.access.results import Me, NewToken, RevokedToken, TokenView, UserView
from outages.api.bodies import Body, json_router
from outages.api.deps import Admin, Authenticated, EngineDep, ReadConn
from outages.db import write_transaction
from outages.enums import Role, Source

router = json_router(tags=["users"])

NamePath = Path(min_length=1, max_length=100)


class NewUser(Body):
    name: str = Field(min_length=1, max_length=64, examples=["lan.nguyen"])
    role: Role


@router.get("/me", summary="The user behind the token, with what their role may do")
def me(user: Authenticated) -> Me:
    return Me(name=user.name, role=user.role, capabilities=sorted(auth.CAPABILITIES[user.role]))


@router.get("/users", summary="List users")
def list_users(_user: Admin, conn: ReadConn) -> list[UserView]:
    return auth.list_users(conn)


@router.post("/users", status_code=201, summary="Add a user")
def add_user(body: NewUser, user: Admin, engine: EngineDep) -> UserView:
    with write_transaction(engine) as conn:
        return auth.add_user(conn, name=body.name, role=body.role, actor=user.name,
                             source=Source.HTTP)


@router.post("/users/{name}/disable", summary="Disable a user and all their tokens")
def disable_user(user: Admin, engine: EngineDep, name: str = NamePath) -> UserView:
    with write_transaction(engine) as conn:
        return auth.disable_user(conn, name=name, actor=user.name, source=Source.HTTP)


@router.post("/users/{name}/tokens", status_code=201,
             summary="Create a token for a user; the secret is in this response only")
def create_token(user: Admin, engine: EngineDep, name: str = NamePath) -> NewToken:
    with write_transaction(engine) as conn:
        token, info = auth.create_token(conn, name=name, actor=user.name, source=Source.HTTP)
    info.token = token
    return info


@router.get("/tokens", summary="List tokens (prefix, owner, last use), never their secrets")
def list_tokens(_user: Admin, conn: ReadConn,
                user: str | None = Query(None, max_length=100)) -> list[TokenView]:
    return auth.list_tokens(conn, name=user)


@router.post("/tokens/{prefix}/revoke", summary="Revoke a token by its prefix")
def revoke_token(user: Admin, engine: EngineDep,
                 prefix: str = Path(min_length=1, max_length=16)) -> RevokedToken:
    with write_transaction(engine) as conn:
        return auth.revoke_token(conn, prefix=prefix, actor=user.name, source=Source.HTTP)
