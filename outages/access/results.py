"""What access control answers: users, tokens, the caller, audit entries."""

from __future__ import annotations

from typing import Any

from outages.results import Instant, Result


class UserView(Result):
    name: str
    role: str
    created_at: Instant
    disabled_at: Instant | None


class Me(Result):
    name: str
    role: str
    capabilities: list[str]


class TokenView(Result):
    prefix: str
    user: str
    role: str
    created_at: Instant
    last_used_at: Instant | None
    revoked_at: Instant | None


class NewToken(Result):
    """A created token; `token`, the secret, is shown this once and never stored."""

    token: str | None = None
    prefix: str
    user: str
    role: str


class RevokedToken(Result):
    prefix: str
    revoked: bool


class AuditRecord(Result):
    id: int
    at: Instant
    actor: str
    source: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Result):
    entries: list[AuditRecord]
    next_offset: int | None
