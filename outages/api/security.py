"""Browser-facing protection: the security headers on every response, the static files
(page stylesheet, Swagger UI) served from the package, and /docs built on them."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outages import paths
from outages.settings import Settings

# Scripts and styles only from files the service serves: no inline script can run, so
# injected markup cannot act. Images may be data: URIs (Swagger UI's icons, report charts).
_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'{styles}; "
           "img-src 'self' data:{images}; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'")
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
CONSOLE_PREFIX = "/console"  # where outages.console mounts the dispatcher console


def content_security_policy(html: str = "", images: str = "") -> str:
    """The policy, allowing exactly the inline <style> blocks of `html` by their hash (a
    self-contained page such as the reliability report carries its own stylesheet), and
    images from the origin `images` too (the console's base map tiles) when given."""
    hashes = "".join(
        " 'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in _STYLE.findall(html))
    return _POLICY.format(styles=hashes, images=f" {images}" if images else "")


def tile_origin(tile_url: str) -> str:
    """The scheme and host the base map's tiles come from ("" without a base map); a
    {s} subdomain placeholder becomes a wildcard."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


class SecurityHeaders:
    """Adds the security headers to every response; a response that sets its own
    Content-Security-Policy keeps it."""

    def __init__(self, app: ASGIApp, *, hsts: bool, console_images: str = "") -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
        }
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"
        # Only the console's pages show its base map: only they may load its tiles.
        self.console_headers = {**self.headers, "Content-Security-Policy":
                                content_security_policy(images=console_images)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        ours = self.console_headers if scope["path"].startswith(CONSOLE_PREFIX) \
            else self.headers

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ours.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API</title>
<link rel="stylesheet" href="{root}/static/swagger-ui/swagger-ui.css">
<link rel="icon" href="{root}/static/swagger-ui/favicon-32x32.png">
</head>
<body data-openapi="{root}{openapi}">
<div id="swagger-ui"></div>
<script src="{root}/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{root}/static/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI, settings: Settings) -> None:
    """Static files, /docs when http.docs is on, and the security headers."""
    app.mount("/static", StaticFiles(directory=paths.static_dir()), name="static")
    if settings.http.docs:
        @app.get("/docs", include_in_schema=False)
        async def docs(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "").rstrip("/")
            return HTMLResponse(_DOCS_PAGE.format(title=app.title, root=root,
                                                  openapi=app.openapi_url))
    https = settings.http.public_base_url.lower().startswith("https://")
    app.add_middleware(SecurityHeaders, hsts=https,
                       console_images=tile_origin(settings.web.tile_url))
