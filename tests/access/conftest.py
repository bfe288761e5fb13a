"""Audit and token tests drive the API too: they share its client fixtures."""

from tests.api.conftest import client, headers, http_env, make_client  # noqa: F401
