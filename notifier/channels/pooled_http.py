"""An HTTP client for the twilio library, on one thread-safe urllib3 connection pool.

The twilio client's default (`TwilioHttpClient`) goes through `requests`, which prepares,
merges settings and re-reads the environment at every request: about half of a sending
worker's CPU time in the typhoon benchmark. This client does what that one does for the
requests twilio makes (form or JSON bodies, basic auth, query strings, a timeout, no
retries, no redirects) straight on urllib3, which `requests` itself sends through. The
environment's proxy and CA settings are read once, when the client is made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3
from twilio.http import HttpClient
from twilio.http.http_client import _logger
from twilio.http.response import Response

JSON_TYPES = ("application/json", "application/scim+json")
# What requests adds to every request; the twilio client sets the rest.
DEFAULT_HEADERS = {"Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
NetworkError = urllib3.exceptions.HTTPError  # what a failed connection or read raises
# Raised once the request was written: the server may have acted on it.
_AFTER_SENDING = (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError)
# One try, as requests makes by default; a redirect is followed only when asked for.
ONE_TRY = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=0,
                        raise_on_redirect=False)
FOLLOWING = ONE_TRY.new(redirect=10)


class PooledHttpClient(HttpClient):
    """Shared by all sending threads: urllib3's pool manager is thread-safe and keeps up to
    `pool_size` open connections per host."""

    def __init__(self, base_url: str, *, timeout: float, pool_size: int = 32) -> None:
        super().__init__(_logger, is_async=False, timeout=timeout)
        self.manager = pool_manager(base_url, pool_size)
        self._authorization: dict[tuple[str, str], str] = {}
        # Without a proxy, straight to the host's own pool: the manager's per-request URL
        # parsing and pool lookup cost as much as the pool's own work.
        self._direct: dict[str, urllib3.HTTPConnectionPool] = {}

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        sent = {**DEFAULT_HEADERS, **(headers or {})}
        if auth is not None:
            sent["Authorization"] = self._basic(auth)
        if params:
            url += ("&" if "?" in url else "?") + _form(params)
        body: str | None = None  # as requests: a JSON body even if empty, a form only if not
        if sent.get("Content-Type", "") in JSON_TYPES:
            body = None if data is None else json.dumps(data)
        elif data:
            body = _form(data)
        options: dict[str, Any] = {
            "body": body, "headers": sent, "redirect": allow_redirects,
            "timeout": urllib3.Timeout(timeout if timeout is not None else self.timeout),
            "retries": FOLLOWING if allow_redirects else ONE_TRY}
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        if allow_redirects or type(self.manager) is not urllib3.PoolManager or not scheme:
            answer = self.manager.urlopen(method.upper(), url, **options)
        else:
            answer = self._pool(f"{scheme}://{host}").urlopen(
                method.upper(), slash + path or "/", assert_same_host=False, **options)
        return Response(answer.status, _text(answer), answer.headers)

    def _pool(self, origin: str) -> urllib3.HTTPConnectionPool:
        pool = self._direct.get(origin)
        if pool is None:  # the manager makes each host's pool once, under its own lock
            pool = self._direct[origin] = self.manager.connection_from_url(origin)
        return pool

    def _basic(self, auth: tuple[str, str]) -> str:
        value = self._authorization.get(auth)
        if value is None:  # encoded as requests does (latin-1), once per credentials
            value = urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}")["authorization"]
            self._authorization[auth] = value
        return value


def pool_manager(url: str, pool_size: int) -> urllib3.PoolManager:
    """A pool manager for `url` with the environment's proxy (HTTP(S)_PROXY, ALL_PROXY,
    NO_PROXY) and CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) as requests would apply."""
    from requests.utils import get_auth_from_url, get_environ_proxies, select_proxy

    pools: dict[str, Any] = {"maxsize": pool_size, "cert_reqs": "CERT_REQUIRED",
                             **_ca_settings()}
    proxy = select_proxy(url, get_environ_proxies(url))
    if not proxy:
        return urllib3.PoolManager(**pools)
    username, password = get_auth_from_url(proxy)
    if proxy.lower().startswith("socks"):
        from urllib3.contrib.socks import SOCKSProxyManager

        return SOCKSProxyManager(proxy, username=username or None, password=password or None,
                                 **pools)
    proxy_headers = (urllib3.make_headers(proxy_basic_auth=f"{username}:{password}")
                     if username else None)
    return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers, **pools)


def _ca_settings() -> dict[str, str]:
    import certifi

    bundle = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
              or certifi.where())
    return {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}


def _form(values: Mapping[str, object]) -> str:
    """A form body as requests encodes one: lists repeat their key, None is left out."""
    pairs = [(key, value) for key, given in values.items()
             for value in (given if isinstance(given, list | tuple) else (given,))
             if value is not None]
    return urlencode(pairs)


def _text(answer: urllib3.BaseHTTPResponse) -> str:
    """The body decoded by the charset the answer names, else UTF-8 (JSON's)."""
    charset = "utf-8"
    for part in answer.headers.get("Content-Type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"\'')
    try:
        return answer.data.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return answer.data.decode("utf-8", errors="replace")


def may_have_arrived(error: BaseException) -> bool:
    """Whether a failed request may have reached the server: its answer did not come (a
    read timeout, a connection dropped mid-answer), as against a connection never made."""
    if isinstance(error, urllib3.exceptions.MaxRetryError):
        error = error.reason or error
    return isinstance(error, _AFTER_SENDING)

