"""Domain errors shared by the CLI (exit codes) and the HTTP API (status codes).

Messages are written for the person at the keyboard: what is wrong and how to fix it, in
the domain's words. `field` names the domain's field (`area`, `start`, `allow_empty`); `hint`
names a way out (`allow_empty`, `urgent`, ...) that each front end words for itself: the CLI
says "pass --allow-empty", the API says `"allow_empty": true` (see outages/cli/errors.py and
outages/api/errors.py). Neither carries a CLI option, a command line or an HTTP detail.
"""

from __future__ import annotations


class OutagesError(Exception):
    """Base class: a request the domain refuses. Nothing has been written when it is raised."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ValidationError(OutagesError):
    """Input that cannot be accepted as given (bad time, bad area, rule violated)."""

    exit_code = 2
    http_status = 422


class NotFound(OutagesError):
    exit_code = 3
    http_status = 404


class Conflict(OutagesError):
    """The request is valid but clashes with the current state (e.g. cancelling a completed cut)."""

    exit_code = 4
    http_status = 409


class ConfigError(OutagesError):
    """Settings that cannot be used; the message names the key."""

    exit_code = 78  # EX_CONFIG
    http_status = 500
