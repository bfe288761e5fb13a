"""Printing: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from outages.jsonable import json_default

# Piped or logged output would otherwise be squeezed to 80 columns and tables become
# unreadable; a terminal keeps its own width, and COLUMNS still wins when set.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, default=json_default)


def print_json(payload: Any) -> None:
    """JSON on stdout without rich markup or line wrapping."""
    print(dumps(payload))


def warn(message: str) -> None:
    # Messages quote input such as "[lon, lat]": escape it, and keep each on one line so
    # it can be read, grepped and copied whatever the terminal width.
    err_console.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
