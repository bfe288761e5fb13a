"""`outages subscriptions list|remove`: self-service subscriptions, for staff."""

from __future__ import annotations

import typer
from rich.table import Table

from outages.cli.context import ID_MAX, cli_actor, cli_context
from outages.cli.lifecycle.render import short
from outages.cli.output import console, print_json

app = typer.Typer(help="Self-service subscriptions (a phone or email following a customer "
                  "code or a district).", no_args_is_help=True)


@app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Only those to this code."),
    district: str | None = typer.Option(None, "--district", help="Only those to this district."),
    ended: bool = typer.Option(False, "--ended", help="Ended subscriptions too."),
    limit: int = typer.Option(1000, "--limit", min=1, max=100_000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Confirmed subscriptions, newest first."""
    from outages.registry import subscriptions

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        found = subscriptions.listing(conn, customer=customer, district=district,
                                      include_ended=ended, limit=limit,
                                      tz=context.settings.tz)
    if as_json:
        print_json(found)
        return
    table = Table(title=f"Subscriptions ({len(found)})")
    for column in ("id", "channel", "contact", "follows", "known", "lang", "status", "via",
                   "confirmed"):
        table.add_column(column)
    for s in found:
        table.add_row(str(s.id), s.channel, s.contact or "-", f"{s.target_kind} {s.target}",
                      "yes" if s.matched else "no", s.language, s.status, s.via,
                      short(s.confirmed_at))
    console.print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    subscription_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX,
                                          help="The subscription."),
    by: str | None = typer.Option(None, "--by", help="Who is acting (for the audit log)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """End a subscription: it gets nothing more (audited)."""
    from outages.db import write_transaction
    from outages.enums import Source
    from outages.registry import subscriptions

    context = cli_context(ctx)
    with write_transaction(context.engine) as conn:
        ended = subscriptions.remove(conn, subscription_id, actor=cli_actor(by),
                                     source=Source.CLI, tz=context.settings.tz)
    if as_json:
        print_json(ended)
        return
    console.print(f"subscription {ended.id} ended ({ended.target_kind} {ended.target})")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="subscriptions")
