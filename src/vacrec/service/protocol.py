"""uvicorn's HTTP protocol with a deadline for receiving each request.

uvicorn bounds idle keep-alive connections, but not a client that sends a
request slowly: a connection that never finishes its headers (or body) is held
forever, and one host holding thousands of them exhausts the worker's file
descriptors. Here every request's headers and body must arrive within
``VACREC_HTTP_READ_TIMEOUT_S`` of the connection opening (or of the previous
response); otherwise the server answers 408 and closes the connection, as
nginx's ``client_header_timeout`` / ``client_body_timeout`` do.

Select it with ``uvicorn.run(..., http=PROTOCOL)``; it is named by import
path so spawned worker processes load it themselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vacrec.config import get_settings

PROTOCOL = "vacrec.service.protocol:ReadDeadlineProtocol"
_TIMEOUT_BODY = b"request not received in time\n"
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


class ReadDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that closes a connection whose request is not in within the deadline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout_s = get_settings().http_read_timeout_s
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_complete(self) -> None:
        self._disarm()  # the whole request is in; the app's time is bounded elsewhere
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.pipeline and not self.transport.is_closing():
            self._arm()  # the next request on this connection gets its own deadline

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete:  # still reading headers: say so
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()
        elif cycle.more_body and not cycle.response_started:  # a body trickling in
            self.transport.close()
