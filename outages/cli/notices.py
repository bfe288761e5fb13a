"""`outages notices preview|list|stats`."""

from __future__ import annotations

import typer
from rich.table import Table

from outages.cli.context import ID_MAX, cli_context
from outages.cli.output import console, print_json
from outages.errors import ValidationError

app = typer.Typer(help="Customer notices: preview, list, delivery statistics.",
                  no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="notices")


@app.command("preview")
def preview(
    ctx: typer.Context,
    cut: int | None = typer.Option(None, "--cut", min=1, max=ID_MAX, help="A planned cut id."),
    fault: int | None = typer.Option(None, "--fault", min=1, max=ID_MAX,
                                     help="A fault incident id."),
    kind: str | None = typer.Option(None, "--kind", help="Notice kind (default: the first)."),
    language: str | None = typer.Option(None, "--language", help="vi or en (default both)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show each rendered message and what sending it to every affected customer costs."""
    _preview(ctx, cut, fault, kind, language, as_json)


def _preview(ctx: typer.Context, cut: int | None, fault: int | None, kind: str | None,
             language: str | None, as_json: bool) -> None:
    from outages.notices import report as notice_report
    from outages.notices.queue import LANGUAGES

    if (cut is None) == (fault is None):
        raise ValidationError("give exactly one of --cut ID or --fault ID", field="--cut")
    if language is not None and language not in LANGUAGES:
        raise ValidationError(f"unknown language {language!r}: use vi or en", field="--language")
    context = cli_context(ctx)
    with context.engine.connect() as conn:
        result = notice_report.preview(
            conn, context.settings, outage_id=cut if cut is not None else fault or 0,
            expect="planned" if cut is not None else "fault", kind=kind, language=language)
    if as_json:
        print_json(result)
        return
    for m in result.messages:
        console.rule(f"{result.kind} · {m.channel} · {m.language} · {m.recipients} recipients")
        if m.subject:
            console.print(f"Subject: {m.subject}", markup=False)
        console.print(m.body, markup=False)
        console.print(f"[dim]{m.encoding}, {m.segments} segment(s), "
                      f"{m.cost_each:.4f} each[/dim]")
    t = result.totals
    console.print(f"\nTotal: {t.messages} messages, {t.segments} SMS segments, "
                  f"estimated cost {t.cost:.2f}")


@app.command("list")
def list_notices(
    ctx: typer.Context,
    outage: int | None = typer.Option(None, "--outage", min=1, max=ID_MAX,
                                      help="Only this outage."),
    status: str | None = typer.Option(None, "--status", help="pending, sent, failed, ..."),
    limit: int = typer.Option(100, "--limit", min=1, max=ID_MAX),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Notices still to send, soonest due first; then the others, latest first."""
    from outages.notices import report as notice_report

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        rows = notice_report.listing(conn, context.settings, outage_id=outage, status=status,
                                     limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "outage", "kind", "channel", "recipient", "lang", "status", "due",
                  "tries", "error")
    for r in rows:
        table.add_row(str(r.id), str(r.outage_id), r.kind, r.channel, r.recipient, r.language,
                      r.status, r.due_at or "-", str(r.attempts), str(r.last_error_code or ""))
    console.print(table)


@app.command("stats")
def stats(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts by status and channel, delivery rate, median delay after the due time."""
    from outages.notices import report as notice_report

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        result = notice_report.stats(conn)
    if as_json:
        print_json(result)
        return
    table = Table("channel", *sorted(result.by_status), "total")
    for channel, counts in sorted(result.by_channel.items()):
        table.add_row(channel, *(str(counts.get(s, 0)) for s in sorted(result.by_status)),
                      str(sum(counts.values())))
    console.print(table)
    rate = result.delivery_rate
    delay = result.median_delay_seconds
    console.print(f"delivery rate: {'-' if rate is None else f'{rate:.1%}'}; median delay "
                  f"after due: {'-' if delay is None else f'{delay:.1f} s'}; "
                  f"cost of sent: {result.cost:.2f}")
    unreachable = "; ".join(
        f"{channel}: {counts.get('opted_out', 0)} opted out, "
        f"{counts.get('invalid_address', 0)} invalid address(es)"
        for channel, counts in result.unreachable.items())
    console.print(f"customers not reached: {unreachable}")
