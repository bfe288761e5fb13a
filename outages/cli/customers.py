"""`outages customers`: import the registry, list, show and update customers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from outages.cli.context import ID_MAX, cli_actor, cli_context
from outages.cli.output import console, err_console, print_json
from outages.enums import Source

if TYPE_CHECKING:
    from outages.registry.importer import Progress as ProgressCallback
    from outages.registry.results import CustomerView

app = typer.Typer(help="The customer registry: bulk import, look-ups, contact changes.",
                  no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="CSV with a header row, or a GeoJSON "
                                "FeatureCollection of Point features."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Where to write rejected rows "
                                        "(default: <name>.rejects.csv beside the input)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    by: str | None = typer.Option(None, "--by", help="Who imports (for the audit log)."),
) -> None:
    """Upsert customers by code; bad rows go to a rejects CSV with the reason."""
    from outages.registry import customers

    context = cli_context(ctx)
    with _progress() as report:
        result = customers.import_registry(context.engine, context.settings, path,
                                           actor=cli_actor(by), source=Source.CLI,
                                           rejects_path=rejects, progress=report)
    if as_json:
        print_json(result.as_json())
        return
    console.print(f"{result.imported} imported, {result.updated} updated, "
                  f"{result.rejected} rejected")
    if result.rejected:
        for sample in result.samples:
            _warn(sample)
        more = result.rejected - len(result.samples)
        _warn(f"{result.rejected} row(s) rejected{f' ({more} more not shown)' if more > 0 else ''}"
              f"; reasons are in {result.rejects_file}")


def _warn(text: str) -> None:
    """Unwrapped and unstyled inside: reasons quote input and paths must stay copyable."""
    err_console.print(f"[yellow]warning:[/yellow] {escape(text)}", soft_wrap=True)


@contextmanager
def _progress() -> Iterator[ProgressCallback | None]:
    """A progress bar over the bytes read, only when a person is watching stderr."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    if not err_console.is_terminal:
        yield None
        return
    bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                   TimeRemainingColumn(), console=err_console, transient=True)
    task = bar.add_task("importing", total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command("list")
def list_(
    ctx: typer.Context,
    region: str | None = typer.Option(None, "--region"),
    district: str | None = typer.Option(None, "--district"),
    feeder: str | None = typer.Option(None, "--feeder"),
    limit: int = typer.Option(50, "--limit", min=0, max=ID_MAX),
    offset: int = typer.Option(0, "--offset", min=0, max=ID_MAX),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Customers ordered by code, optionally filtered."""
    from outages.registry import customers

    context = cli_context(ctx)
    filters: dict[str, Any] = {"region": region, "district": district, "feeder": feeder}
    with context.engine.connect() as conn:
        total = customers.count_customers(conn, **filters)
        rows = customers.list_customers(conn, **filters, limit=limit, offset=offset)
    if as_json:
        tz = context.settings.tz
        print_json({"total": total, "limit": limit, "offset": offset,
                    "customers": [customers.customer_view(r, tz) for r in rows]})
        return
    table = Table("code", "name", "phone", "email", "district", "feeder", "lang")
    for r in rows:
        table.add_row(r["code"], r["name"] or "", r["phone"] or "", r["email"] or "",
                      r["district"] or "", r["feeder"] or "", r["language"])
    console.print(table)
    console.print(f"{len(rows)} shown of {total} (offset {offset})")


@app.command()
def show(
    ctx: typer.Context,
    code: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One customer with every field."""
    from outages.registry import customers

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        view = customers.customer_view(customers.get_customer(conn, code), context.settings.tz)
    _print_customer(view, as_json)


def _print_customer(view: CustomerView, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    table = Table("field", "value", show_header=False)
    for key, value in view.as_json().items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


@app.command("update")
def update_(
    ctx: typer.Context,
    code: str = typer.Argument(...),
    phone: str | None = typer.Option(None, "--phone", help="New number; '' clears it."),
    email: str | None = typer.Option(None, "--email", help="New address; '' clears it."),
    language: str | None = typer.Option(None, "--language", help="vi or en."),
    sms_opt_out: bool | None = typer.Option(None, "--sms-opt-out/--no-sms-opt-out"),
    email_opt_out: bool | None = typer.Option(None, "--email-opt-out/--no-email-opt-out"),
    priority: str | None = typer.Option(None, "--priority", help="life_support, medical or "
                                        "critical_facility; '' clears it."),
    channels: str | None = typer.Option(
        None, "--channels", help="Channels in order of preference, e.g. zalo,sms,email; "
        "'' for the default."),
    by: str | None = typer.Option(None, "--by", help="Who is making the change."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change a customer's contact details, language, opt-outs, priority or channels (audited)."""
    from outages.registry import customers

    changes = {k: v for k, v in {"phone": phone, "email": email, "language": language,
                                 "sms_opt_out": sms_opt_out,
                                 "email_opt_out": email_opt_out,
                                 "priority": priority,
                                 "channels": channels}.items() if v is not None}
    if not changes:
        raise typer.BadParameter("give at least one of --phone, --email, --language, "
                                 "--sms-opt-out/--no-sms-opt-out, --email-opt-out/..., "
                                 "--priority, --channels")
    from outages.db import write_transaction

    context = cli_context(ctx)
    with write_transaction(context.engine) as conn:
        row = customers.update_customer(conn, code, changes=changes, actor=cli_actor(by),
                                        source=Source.CLI, settings=context.settings)
    _print_customer(customers.customer_view(row, context.settings.tz), as_json)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="customers")
