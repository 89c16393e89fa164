"""Security headers on every response, and a Content-Security-Policy for the API docs.

The web pages set their own CSP (``ui.py``). The docs pages (Swagger UI, ReDoc,
served from the ``fastapi-offline`` package) carry an inline bootstrap script;
rather than allow every inline script, their CSP names the hash of the ones
the page actually holds.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "X-Content-Type-Options": "nosniff",  # a JSON body is never run as a script or page
    "Referrer-Policy": "no-referrer",  # links to vacancies do not tell sites who sent them
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
DOC_PATHS = ("/docs", "/redoc")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: bytes) -> str:
    """A CSP allowing our own files plus exactly the inline scripts of ``html``."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Pure ASGI middleware: ``HEADERS`` on every response (a route's own value wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).startswith(DOC_PATHS):
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the (small) docs page until its scripts are known, then send it with a CSP."""
        start: Message | None = None
        chunks: list[Message] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                assert start is not None
                headers = MutableHeaders(scope=start)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    html = b"".join(m.get("body", b"") for m in chunks)
                    headers["Content-Security-Policy"] = docs_policy(html)
                await send(start)
                for chunk in chunks:
                    await send(chunk)

        await self.app(scope, receive, collect)
