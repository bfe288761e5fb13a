from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from outages.access import auth
from outages.errors import ValidationError
from outages.models import ApiToken, AuditEntry


def test_users_and_tokens_from_the_command_line(cli, engine) -> None:
    assert cli("users", "add", "lan", "--role", "dispatcher", "--by", "boss").exit_code == 0
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["disabled_at"]) for u in listed] == [
        ("lan", "dispatcher", None)]

    created = cli("tokens", "create", "lan")
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith(auth.TOKEN_PREFIX) and len(token) > 40
    with engine.connect() as conn:
        stored = conn.execute(select(ApiToken.__table__)).one()
        actors = conn.execute(select(AuditEntry.__table__.c.actor,
                                     AuditEntry.__table__.c.action)).all()
    # Only the hash is kept; the prefix names it.
    assert stored.token_hash == auth.hash_token(token) and token not in stored.token_hash
    assert token.startswith(stored.prefix)
    assert ("boss", "user.add") in actors

    tokens = json.loads(cli("tokens", "list", "lan", "--json").stdout)
    assert [t["prefix"] for t in tokens] == [stored.prefix]
    assert token not in cli("tokens", "list", "--json").stdout
    assert cli("tokens", "revoke", stored.prefix).exit_code == 0
    assert json.loads(cli("tokens", "list", "--json").stdout)[0]["revoked_at"] is not None
    assert cli("users", "disable", "lan").exit_code == 0
    assert json.loads(cli("users", "list", "--json").stdout)[0]["disabled_at"] is not None


def test_command_line_refusals_name_the_problem(cli) -> None:
    cases = [
        (("users", "add", "lan", "--role", "boss"), 2, "unknown role 'boss'"),
        (("users", "add", "lan", "--role", "viewer"), 0, ""),
        (("users", "add", "lan", "--role", "viewer"), 4, "already exists"),
        (("tokens", "create", "nobody"), 3, "no user named 'nobody'"),
        (("tokens", "revoke", "otk_00000000"), 3, "no token starts with"),
    ]
    for args, code, words in cases:
        result = cli(*args)
        assert result.exit_code == code, args
        assert words in result.stderr


def test_requests_without_a_valid_token_get_401(client, headers, engine) -> None:
    assert client.get("/me").status_code == 401
    assert client.get("/me").headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/me", headers={"Authorization": "Basic YWxpY2U6eA=="}).status_code == 401
    me = client.get("/me", headers=headers["viewer"])
    assert me.status_code == 200 and me.json()["role"] == "viewer"

    prefix = headers["viewer"]["Authorization"].split()[1][: auth.PREFIX_LENGTH]
    with engine.begin() as conn:
        auth.revoke_token(conn, prefix=prefix, actor="t", source="cli")
        auth.disable_user(conn, name="engineer", actor="t", source="cli")
    assert client.get("/me", headers=headers["viewer"]).status_code == 401
    assert client.get("/me", headers=headers["engineer"]).status_code == 401
    assert client.get("/me", headers=headers["admin"]).status_code == 200


def test_use_of_a_token_is_recorded(client, headers, engine) -> None:
    client.get("/me", headers=headers["dispatcher"])
    with engine.connect() as conn:
        used = conn.execute(select(ApiToken.__table__.c.prefix, ApiToken.__table__.c.last_used_at)
                            ).all()
    used_prefixes = {p for p, at in used if at is not None}
    assert used_prefixes == {headers["dispatcher"]["Authorization"].split()[1][:12]}


def test_only_admins_manage_users(client, headers) -> None:
    for role in ("viewer", "engineer", "dispatcher"):
        response = client.post("/users", json={"name": "new", "role": "viewer"},
                               headers=headers[role])
        assert response.status_code == 403
        assert f"role {role} may not manage users" in response.json()["detail"]
        assert client.get("/users", headers=headers[role]).status_code == 403
        assert client.post("/users/viewer/tokens", headers=headers[role]).status_code == 403
    assert client.post("/users", json={"name": "new", "role": "viewer"}).status_code == 401
    assert len(client.get("/users", headers=headers["admin"]).json()) == 4


def test_admin_manages_users_and_every_change_is_audited(client, headers, engine) -> None:
    admin = headers["admin"]
    created = client.post("/users", json={"name": "lan", "role": "dispatcher"}, headers=admin)
    assert created.status_code == 201 and created.json()["role"] == "dispatcher"
    assert client.post("/users", json={"name": "lan", "role": "viewer"},
                       headers=admin).status_code == 409

    token = client.post("/users/lan/tokens", headers=admin)
    assert token.status_code == 201
    secret, prefix = token.json()["token"], token.json()["prefix"]
    assert client.get("/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"] == "lan"
    listed = client.get("/tokens", params={"user": "lan"}, headers=admin).json()
    assert [t["prefix"] for t in listed] == [prefix] and secret not in json.dumps(listed)

    assert client.post(f"/tokens/{prefix}/revoke", headers=admin).status_code == 200
    assert client.get("/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.post("/users/lan/disable", headers=admin).status_code == 200
    assert client.post("/users/ghost/disable", headers=admin).status_code == 404

    with engine.connect() as conn:
        entries = conn.execute(select(AuditEntry.__table__).where(
            AuditEntry.__table__.c.source == "http").order_by(AuditEntry.__table__.c.id)).all()
    assert [(e.actor, e.action) for e in entries] == [
        ("admin", "user.add"), ("admin", "token.create"), ("admin", "token.revoke"),
        ("admin", "user.disable")]
    assert entries[0].after == {"name": "lan", "role": "dispatcher"}
    assert entries[3].before == {"disabled": False} and entries[3].after == {"disabled": True}


def test_bad_user_bodies_are_422_with_field_and_reason(client, headers) -> None:
    response = client.post("/users", json={"name": "lan", "role": "boss"},
                           headers=headers["admin"])
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "body.role" and "admin" in body["detail"]
    spaced = client.post("/users", json={"name": "lan nguyen", "role": "viewer"},
                         headers=headers["admin"])
    assert spaced.status_code == 422 and spaced.json()["field"] == "name"


def test_overlong_user_names_are_refused_before_the_database(client, headers) -> None:
    response = client.post("/users", json={"name": "n" * 65, "role": "viewer"},
                           headers=headers["admin"])
    assert response.status_code == 422 and response.json()["field"] == "body.name"
    with pytest.raises(ValidationError, match="1 to 64 characters"):
        auth._check_name("n" * 65)
