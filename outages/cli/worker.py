"""`outages run`: the notification worker."""

from __future__ import annotations

import logging

import typer

from outages.cli.context import cli_context
from outages.cli.output import err_console, warn


def register(root: typer.Typer) -> None:
    root.command("run")(run)


def run(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Send what is due now, then exit."),
    until_idle: bool = typer.Option(
        False, "--until-idle", help="Keep sending until no notice is pending, then exit."),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.001, max=10 * 365 * 86400,
        help="With --until-idle: give up after this many seconds."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Log every send (failures are always logged)."),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", min=1, max=65535,
        help="Serve metrics in the Prometheus text format on this port."),
    metrics_host: str = typer.Option(
        "127.0.0.1", "--metrics-host", help="Address the metrics port listens on."),
) -> None:
    """Send queued notices: wakes at each due time, polls as a safety net, stops on SIGTERM."""
    from notifier.reconnect import DatabaseUnavailable
    from outages import logs
    from outages.notices import delivery
    from outages.notices.worker import Worker

    context = cli_context(ctx)
    settings = context.settings
    logs.configure(settings.log.format, logging.INFO if verbose else logging.WARNING)
    names = delivery.channel_names(settings)
    unconfigured = ", ".join(k for k, v in names.items() if v == "console")
    if unconfigured:
        warn(f"no provider configured for {unconfigured}: those notices go to the console "
             f"channel ({settings.notices.console_path})")
    worker = Worker(context.engine, settings)
    if metrics_port is not None:
        from outages import metrics

        metrics.serve(context.engine, metrics_host, metrics_port, field="metrics_port")
        err_console.print(f"metrics on http://{metrics_host}:{metrics_port}/metrics")
    worker.install_signals()
    try:
        if once:
            worker.sweep()
        elif until_idle:
            worker.run_until_idle(timeout=timeout)
        else:
            err_console.print(f"worker {worker.dispatcher.worker} running; SIGTERM stops it")
            worker.run_forever()
    except DatabaseUnavailable:
        held = sum(len(h.outcomes) for h in worker.dispatcher.held)
        warn(f"stopped while the database was unreachable; {held} notices sent but not "
             "recorded stay 'sending' and are checked with the provider at the next start")
        raise typer.Exit(1) from None
    finally:
        worker.close()
    err_console.print(f"notices: {worker.dispatcher.summary()}")
