"""Where the shipped data (config defaults, message templates, web assets) lives.

In a wheel they are packed under ``outages/_data``; in a source checkout (editable install)
they are the top-level ``config/``, ``templates/`` and ``static/`` folders beside the packages.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    packed = _PACKAGE / "_data"
    return packed if packed.is_dir() else _PACKAGE.parent


def config_dir() -> Path:
    return data_dir() / "config"


def templates_dir() -> Path:
    return data_dir() / "templates"


def static_dir() -> Path:
    return data_dir() / "static"
