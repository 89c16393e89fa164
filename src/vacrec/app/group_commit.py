"""Group commit: the writes of concurrent requests in one process share one transaction.

Every served recommendation and every rating is one small write. Committed one by one,
each pays its own transaction: a pooled connection's checkout, BEGIN and COMMIT, on
PostgreSQL a ping and a flush of the WAL to disk, on SQLite a turn at the write lock.
Here one writer thread takes every write waiting when it comes free, runs them in one
transaction and commits once; each caller gets its own result only after that commit
returned, so what a request acknowledges is durable. Nothing waits for company: a write
that finds the writer idle is committed at once, alone; batches form only while a commit
is under way.

Failures stay with their own requests. When the database cannot take writes (locked, disk
full, read-only, unreachable, timed out) every write of that batch gets the error, which
the app answers with a 503 naming the cause. Any other failure (one bad row, a rating that
is a 404 or a 409, a deadlock between batches) rolls the batch back and runs its writes
again one transaction each, so a bad row fails only its own request. No caller waits longer
than ``timeout_s``: a write still queued then is withdrawn and never runs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from vacrec.store.db import database_problem
from vacrec.store.writes import EachAlone

T = TypeVar("T")

MAX_BATCH = 64
"""Most writes one transaction takes: a bound on how long a batch holds its locks."""

_DEADLOCK = "40P01"  # PostgreSQL deadlock_detected: two batches crossed; alone they pass


class CommitTimeout(sa_exc.TimeoutError):
    """A write waited ``timeout_s`` for its group commit (the app answers 503, "timed out")."""


@dataclass(frozen=True)
class _Pending:
    write: Callable[[Connection], Any]
    outcome: Future[Any]


_STOP = None


class GroupCommit:
    """Writes from many threads, committed by one writer thread in shared transactions.

    Call :meth:`close` when done; a write submitted after that runs alone in the caller.
    """

    def __init__(self, engine: Engine, timeout_s: float, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._closed = False
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="group-commit", daemon=True)
        self._thread.start()

    def run(self, write: Callable[[Connection], T], /) -> T:
        """Run ``write`` in the next shared transaction; its result once that committed.

        Raises what the write raised (alone, when the batch failed on another write), the
        database's error when the batch could not commit, or :class:`CommitTimeout`.
        """
        outcome: Future[T] = Future()
        with self._guard:
            queued = not self._closed
            if queued:
                self._queue.put(_Pending(write, outcome))
        if not queued:
            return EachAlone(self.engine).run(write)
        try:
            return outcome.result(timeout=self.timeout_s)
        except FutureTimeout:
            # Withdrawn if still queued; if its batch is running, the batch's own database
            # bounds end it, and the caller is not told it was stored.
            outcome.cancel()
            raise CommitTimeout(f"the write waited {self.timeout_s:g} s for its commit") from None

    @property
    def queued(self) -> int:
        """Writes waiting for the writer thread (approximate; for tests and metrics)."""
        return self._queue.qsize()

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()

    # --- the writer thread ------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            running = [p for p in batch if p.outcome.set_running_or_notify_cancel()]
            try:
                self._commit(running)
            except Exception as error:  # a bug here must not leave callers to time out
                for pending in running:
                    if not pending.outcome.done():
                        pending.outcome.set_exception(error)
            if stop:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        try:
            with self.engine.begin() as conn:
                results = [pending.write(conn) for pending in batch]
        except Exception as error:
            if len(batch) == 1 or not _retry_alone(error):
                for pending in batch:
                    pending.outcome.set_exception(error)
                return
            for pending in batch:
                self._commit_alone(pending)
            return
        for pending, result in zip(batch, results, strict=True):
            pending.outcome.set_result(result)

    def _commit_alone(self, pending: _Pending) -> None:
        try:
            result = EachAlone(self.engine).run(pending.write)
        except Exception as error:
            pending.outcome.set_exception(error)
        else:
            pending.outcome.set_result(result)


def _retry_alone(error: BaseException) -> bool:
    """Whether the writes of a failed batch may pass one by one: not when the database
    itself cannot take writes now (each would meet the same wait or error again)."""
    if database_problem(error) is None:
        return True
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else None
    return getattr(orig, "sqlstate", None) == _DEADLOCK
