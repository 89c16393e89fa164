"""uvicorn's HTTP protocol with a deadline for receiving each request.

uvicorn bounds idle keep-alive connections, but not a client that sends a
request slowly: a connection that never finishes its headers (or body) is held
forever, and one host holding thousands of them exhausts the worker's file
descriptors. Here every request's headers and body must arrive within
``VACREC_HTTP_READ_TIMEOUT_S`` of the connection opening (or of the previous
response); otherwise the server answers 408 and closes the connection, as
nginx's ``client_header_timeout`` / ``client_body_timeout`` do.

It also caps the connections one client address holds open in this worker
(``VACREC_HTTP_MAX_CONNECTIONS_PER_ADDRESS``): uvicorn's ``limit_concurrency``
counts every connection together, so one host opening thousands of idle
connections took the whole budget and left everyone else a 503. Beyond the cap a
new connection from that address gets a short 503 and is closed at once, before
it costs a parser, a deadline or a slot in the shared count for longer than a
moment. The cap is below ``VACREC_HTTP_MAX_CONNECTIONS`` (config checks it), so
one address can never hold every slot. The address is the TCP peer's, never a
forwarded header: a connection is held by whoever opened it.

Select it with ``uvicorn.run(..., http=PROTOCOL)``; it is named by import
path so spawned worker processes load it themselves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vacrec.config import get_settings

PROTOCOL = "vacrec.service.protocol:ReadDeadlineProtocol"
_TIMEOUT_BODY = b"request not received in time\n"
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)

_BUSY_BODY = b"too many connections from your address\n"
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n"
    b"retry-after: 1\r\ncontent-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)
REFUSED_LOG_EVERY_S = 10.0

log = logging.getLogger(__name__)


class AddressConnections:
    """Open connections per client address in one worker (one event loop, so no lock)."""

    def __init__(self) -> None:
        self.open: Counter[str] = Counter()
        self.refused = 0  # connections closed at once for their address, since start
        self._refused_logged = 0
        self._logged_at = 0.0

    def admit(self, address: str, cap: int) -> bool:
        """Count a new connection of ``address``; False (not counted) when it holds ``cap``."""
        if cap and self.open[address] >= cap:
            self.refused += 1
            self._log_refusals(address, cap)
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]  # the table holds only addresses with open connections

    def _log_refusals(self, address: str, cap: int) -> None:
        """One warning per interval, not one per refused connection of a flood."""
        now = time.monotonic()
        if now - self._logged_at >= REFUSED_LOG_EVERY_S:
            log.warning(
                "refused %d connection(s) over the cap of %d per address (latest from %s)",
                self.refused - self._refused_logged,
                cap,
                address,
            )
            self._logged_at, self._refused_logged = now, self.refused


CONNECTIONS = AddressConnections()
"""This worker's table: every connection of the process shares it."""


class ReadDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that closes a connection whose request is not in within the deadline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.read_timeout_s = settings.http_read_timeout_s
        self.max_per_address = settings.http_max_connections_per_address
        self._deadline: asyncio.TimerHandle | None = None
        self._counted_as: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None:
            if not CONNECTIONS.admit(address, self.max_per_address):
                transport.write(_BUSY_RESPONSE)
                transport.close()  # connection_lost follows and undoes uvicorn's bookkeeping
                return
            self._counted_as = address
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted_as is not None:
            CONNECTIONS.release(self._counted_as)
            self._counted_as = None
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
