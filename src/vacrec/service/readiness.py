"""Whether this worker can write to the database, answered within a bound.

The check commits a heartbeat row (see :func:`vacrec.store.db.commit_heartbeat`):
a read would pass on a full disk, a read-only file or a held lock. It runs in
its own daemon thread, never on the event loop and never in the request thread
pool (which a hung database fills), at most one at a time, and at most every
``ready_write_every_s`` per worker, so probes add no write load to speak of.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time

from sqlalchemy import Engine

from vacrec.config import Settings
from vacrec.store.db import TIMED_OUT, UNREACHABLE, commit_heartbeat, database_problem

log = logging.getLogger(__name__)


class DatabaseProbe:
    """``await probe.problem()``: None when a write commits, else the cause."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.timeout_s = settings.ready_timeout_s
        self.every_s = settings.ready_write_every_s
        self.min_free_bytes = settings.db_min_free_mb * 1024 * 1024
        self.worker = f"{socket.gethostname()}:{os.getpid()}"[:128]
        self._checked_at = -float("inf")
        self._last: str | None = None
        self._running: asyncio.Future[str | None] | None = None

    async def problem(self) -> str | None:
        """The latest cause (fresh enough), waiting at most ``timeout_s`` for a new check."""
        if time.monotonic() - self._checked_at < self.every_s:
            return self._last
        if self._running is None or self._running.done():
            self._running = self._start()
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), self.timeout_s)
        except TimeoutError:
            return TIMED_OUT  # the check goes on; the next probe waits for the same one

    def _start(self) -> asyncio.Future[str | None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def run() -> None:
            cause = self._check()
            loop.call_soon_threadsafe(self._finish, future, cause)

        threading.Thread(target=run, name="readyz-db", daemon=True).start()
        return future

    def _finish(self, future: asyncio.Future[str | None], cause: str | None) -> None:
        self._checked_at, self._last = time.monotonic(), cause
        if not future.done():
            future.set_result(cause)

    def _check(self) -> str | None:
        try:
            commit_heartbeat(self.engine, self.worker, self.min_free_bytes)
        except Exception as error:  # any failure to commit means "not ready"; say why
            cause = database_problem(error) or UNREACHABLE
            log.warning("readiness: database %s: %s", cause, error)
            return cause
        return None
