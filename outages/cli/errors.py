"""A refused request as the command line says it: the domain's field named as the option
that sets it, and the domain's hint worded as what to type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from outages.errors import OutagesError


class Param(Protocol):
    """A command's option or argument (typer vendors click, so no click class is named)."""

    opts: list[str]

# Domain fields whose option is not `--` and the field with dashes for underscores.
SPELLED = {"feeders": "--feeder", "point": "--at", "channel": "--source", "id": "ID",
           "path": "PATH", "out": "OUT"}

# Each hint key the domain may give, as the CLI words it; appended to the message as is.
HINTS = {
    "allow_empty": " or pass --allow-empty",
    "repair": " or pass --repair",
    "urgent": ". For an emergency pass --urgent --urgent-reason TEXT",
    "db_upgrade": ": run 'outages db upgrade'",
    "list_cuts": ": see `outages cuts list`",
    "list_faults": ": see `outages faults list`",
    "list_users": ": see 'outages users list'",
    "list_tokens": ": see 'outages tokens list'",
    "use_cuts": ": use `outages cuts`",
    "use_faults": ": use `outages faults`",
    "start_cut": " with `outages cuts start ID`",
    "extend_cut": ": give a started cut a new expected end with `outages cuts extend ID --end`",
    "confirm_fault": " with `outages faults confirm ID`",
    "restore_fault": " with `outages faults restore ID`",
    "dismiss_fault": " with `outages faults dismiss ID --reason TEXT`",
    "one_scope": " (--area, --feeder or --auto)",
    "one_caller": " (--customer CODE, --phone NUMBER or --at LON,LAT)",
    "which_customer": " with --customer CODE",
    "place_or_account": ": give the place with --at LON,LAT or the account with --customer CODE",
    "changed": ": show it again and repeat the command if it still holds",
}


def option_for(field: str, params: Sequence[Param]) -> str:
    """`--started-at` for `started_at` when the command has that option; the domain's name
    otherwise (an argument such as AREA, or a settings key such as database.url)."""
    name = SPELLED.get(field, "--" + field.replace("_", "-"))
    if not name.startswith("-") or any(name in param.opts for param in params):
        return name
    return field


def describe(exc: OutagesError, params: Sequence[Param] = ()) -> str:
    message = exc.message + HINTS.get(exc.hint or "", "")
    return f"{option_for(exc.field, params)}: {message}" if exc.field else message
