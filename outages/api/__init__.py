"""The HTTP front end: a FastAPI application over the same domain functions as the CLI."""

from outages.api.app import create_app

__all__ = ["create_app"]
