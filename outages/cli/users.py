"""`outages users`, `outages tokens` and `outages audit`: who may use the HTTP API, and
what everyone changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Column, Table

from outages.cli.context import cli_actor, cli_context
from outages.cli.output import console, err_console, print_json
from outages.enums import Source
from outages.timeutil import show_local

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from outages.access.results import AuditRecord

users_app = typer.Typer(help="API users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)

BY = typer.Option(None, "--by", help="Who is acting (default: $OUTAGES_ACTOR or the OS user).")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name, e.g. lan.nguyen"),
    role: str = typer.Option(..., "--role", help="dispatcher, engineer, admin or viewer"),
    by: str | None = BY,
) -> None:
    """Add a user; then give them a token with 'outages tokens create NAME'."""
    from outages.access import auth
    from outages.db import write_transaction

    with write_transaction(cli_context(ctx).engine) as conn:
        user = auth.add_user(conn, name=name, role=role, actor=cli_actor(by),
                             source=Source.CLI)
    console.print(f"user {user.name} added with role {user.role}")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List users with their role and whether they are disabled."""
    from outages.access import auth

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        users = auth.list_users(conn)
    if as_json:
        print_json(users)
        return
    tz = context.settings.tz
    table = Table("name", "role", "created", "disabled")
    for user in users:
        table.add_row(user.name, user.role, show_local(user.created_at, tz),
                      show_local(user.disabled_at, tz))
    console.print(table)


@users_app.command("disable")
def users_disable(ctx: typer.Context, name: str = typer.Argument(...), by: str | None = BY) -> None:
    """Disable a user: all their tokens stop working immediately."""
    from outages.access import auth
    from outages.db import write_transaction

    with write_transaction(cli_context(ctx).engine) as conn:
        auth.disable_user(conn, name=name, actor=cli_actor(by), source=Source.CLI)
    console.print(f"user {name} disabled")


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from one line of standard input."),
    by: str | None = BY,
) -> None:
    """Set the console password of user NAME (asked twice unless --password-stdin)."""
    from outages.access import passwords
    from outages.db import write_transaction

    password = _read_password(password_stdin)
    with write_transaction(cli_context(ctx).engine) as conn:
        passwords.set_password(conn, name=name, password=password, actor=cli_actor(by),
                               source=Source.CLI)
    console.print(f"console password of {name} set; their open console sessions ended")


def _read_password(from_stdin: bool) -> str:
    import sys

    if from_stdin:
        from outages.errors import ValidationError

        line = sys.stdin.buffer.readline() if hasattr(sys.stdin, "buffer") else \
            sys.stdin.readline().encode("utf-8", "surrogateescape")
        try:
            return line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise ValidationError("the password read from standard input is not UTF-8 text",
                                  field="password") from None
    password: str = typer.prompt("New password", hide_input=True,
                                 confirmation_prompt="Repeat it")
    return password


@tokens_app.command("create")
def tokens_create(ctx: typer.Context, name: str = typer.Argument(...),
                  by: str | None = BY) -> None:
    """Create a token for user NAME and print it once (only its hash is kept)."""
    from outages.access import auth
    from outages.db import write_transaction

    with write_transaction(cli_context(ctx).engine) as conn:
        token, info = auth.create_token(conn, name=name, actor=cli_actor(by),
                                        source=Source.CLI)
    err_console.print(f"token {info.prefix} for {name} ({info.role}); it is shown only "
                      "once, store it now:")
    print(token)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, name: str | None = typer.Argument(None),
                as_json: bool = JSON) -> None:
    """List tokens (prefix, owner, last use), of user NAME when given."""
    from outages.access import auth

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        tokens = auth.list_tokens(conn, name=name)
    if as_json:
        print_json(tokens)
        return
    tz = context.settings.tz
    table = Table("prefix", "user", "role", "created", "last used", "revoked")
    for t in tokens:
        table.add_row(t.prefix, t.user, t.role, show_local(t.created_at, tz),
                      show_local(t.last_used_at, tz), show_local(t.revoked_at, tz))
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, prefix: str = typer.Argument(...),
                  by: str | None = BY) -> None:
    """Revoke the token whose prefix is PREFIX (as shown by 'outages tokens list')."""
    from outages.access import auth
    from outages.db import write_transaction

    with write_transaction(cli_context(ctx).engine) as conn:
        auth.revoke_token(conn, prefix=prefix, actor=cli_actor(by), source=Source.CLI)
    console.print(f"token {prefix} revoked")


def audit_command(
    ctx: typer.Context,
    first: str | None = typer.Option(None, "--from", help="Local date or time, inclusive."),
    last: str | None = typer.Option(None, "--to", help="Local date (inclusive) or time."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor."),
    limit: int = typer.Option(200, "--limit", min=1, max=100_000),
    as_json: bool = JSON,
) -> None:
    """Show the audit log, newest first: who changed what, when, before and after."""
    from outages.access import audit

    context = cli_context(ctx)
    start, end = audit.period(first, last, context.settings.tz)
    with context.engine.connect() as conn:
        entries = audit.search(conn, start=start, end=end, actor=actor, limit=limit)
    if as_json:
        print_json(entries)
        return
    _audit_table(entries, context.settings.tz)


def _audit_table(entries: Sequence[AuditRecord], tz: ZoneInfo) -> None:
    # Fold rather than truncate: an audit line is read for its exact values.
    table = Table(*(Column(name, overflow="fold") for name in
                    ("at", "actor", "source", "action", "entity", "before", "after")))
    for e in entries:
        table.add_row(show_local(e.at, tz), e.actor, e.source, e.action,
                      f"{e.entity} {e.entity_id or ''}".strip(),
                      _brief(e.before), _brief(e.after))
    console.print(table)


def _brief(value: dict[str, Any] | None) -> str:
    if not value:
        return "-"
    return ", ".join(f"{k}={v}" for k, v in value.items())


def register(root: typer.Typer) -> None:
    root.add_typer(users_app, name="users")
    root.add_typer(tokens_app, name="tokens")
    root.command("audit")(audit_command)
