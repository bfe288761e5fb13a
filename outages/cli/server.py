"""`outages serve`: the HTTP API under uvicorn (the notification worker is `outages run`)."""

from __future__ import annotations

import copy
import os
from typing import Any

import typer

from outages.cli.context import cli_context
from outages.cli.output import err_console


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Server processes (each with its own connection pool)."),
    proxy_headers: bool = typer.Option(
        False, "--proxy-headers",
        help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a proxy)."),
    forwarded_allow_ips: str = typer.Option("127.0.0.1", "--forwarded-allow-ips"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve the HTTP API, the dispatcher console (/console), the webhooks and the public page."""
    import uvicorn

    from outages import metrics
    from outages.settings import parse_listen

    context = cli_context(ctx)
    settings = context.settings
    context.engine  # noqa: B018 - migrate an empty database (or refuse an old one) up front
    if context.config_path:
        # Workers are fresh processes: they find the settings through the environment.
        os.environ["OUTAGES_CONFIG"] = str(context.config_path)
    if settings.http.metrics_listen:
        metrics_host, metrics_port = parse_listen(settings.http.metrics_listen)
        metrics.serve(context.engine, metrics_host, metrics_port, field="http.metrics_listen")
        err_console.print(f"metrics without a token on http://{settings.http.metrics_listen}")
    # Several processes (or a directory given for them): each writes its counters to files a
    # scrape sums. The variable is set before the worker processes start, which read it when
    # they import the client; the files of a previous run are removed first.
    multiprocess = workers > 1 or metrics.multiprocess_dir() is not None
    shared = metrics.prepare_multiprocess_dir() if multiprocess else None
    err_console.print(f"serving on http://{host}:{port} with {workers} worker(s)")
    # The standard asyncio loop, not uvloop: under 200 keep-alive clients uvloop served
    # about as many requests per second but starved some connections for seconds (p99 over
    # 2 s against under 100 ms with asyncio, same machine, same load).
    try:
        uvicorn.run("outages.console.app:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, loop="asyncio", proxy_headers=proxy_headers,
                    forwarded_allow_ips=forwarded_allow_ips, log_level=log_level,
                    log_config=log_config(settings.log.format), access_log=False,
                    timeout_graceful_shutdown=10)
    finally:
        if shared is not None and shared[1]:
            metrics.remove_multiprocess_dir(shared[0])


def log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's logging, with the service's own loggers (refused requests among them)
    written the same way: no access log, but every refusal an operator should see. Lines
    are text or JSON (log.format), phone numbers and emails masked in both."""
    from uvicorn.config import LOGGING_CONFIG

    from outages.logs import TEXT_FORMAT, formatter_class

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"] = {"()": formatter_class(log_format), "fmt": TEXT_FORMAT}
    config["loggers"]["outages"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)
