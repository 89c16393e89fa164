"""Locks that span processes and hosts sharing one database.

Training reads the live model, trains for seconds to minutes, then promotes
only if the candidate beats it. Two trainings at once would each compare with
the same old model and both promote; holding this lock for the whole run
makes the second compare with what the first left live.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from sqlalchemy import Engine, text

from vacrec.store.lock_ids import AdvisoryLock

TRAINING_LOCK_KEY = int(
    AdvisoryLock.TRAINING
)  # a plain int: psycopg would send an Enum by its name
REFRESH_LOCK_KEY = int(AdvisoryLock.REFRESH)  # a plain int: psycopg would send an Enum by its name
INGEST_LOCK_KEY = int(AdvisoryLock.INGEST)  # a plain int: psycopg would send an Enum by its name
_POLL_S = 0.2


class LockTimeout(Exception):
    """The lock stayed taken for longer than the caller was willing to wait."""


@contextmanager
def training_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    """Hold the database's training lock; wait at most ``wait_s`` seconds for it.

    PostgreSQL: a session advisory lock, so trainings on different hosts
    exclude each other and a crashed holder's lock goes with its connection.
    SQLite: a lock file beside the database file (every writer is on this host).
    """
    with _database_lock(engine, TRAINING_LOCK_KEY, "train-lock", wait_s, _busy(wait_s)):
        yield


@contextmanager
def refresh_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    """Hold the database's refresh lock (as :func:`training_lock`): one `vacrec refresh` at a
    time per database, however many servers run ``--refresh-every``. The ingest inside it
    still takes the ingest lock, so a refresh and a `vacrec ingest` never interleave."""
    busy = f"another refresh still holds the refresh lock after {wait_s:g} s; try again later"
    with _database_lock(engine, REFRESH_LOCK_KEY, "refresh-lock", wait_s, busy):
        yield


@contextmanager
def ingest_lock(engine: Engine, wait_s: float) -> Iterator[None]:
    """Hold the database's ingest lock (as :func:`training_lock`) while a catalog version is
    written and published: an ingest writes its new vacancies in many short transactions
    under a version not yet published, so one transaction's lock no longer keeps two
    ingests (or an ingest and a refresh's retirement) from interleaving their versions."""
    busy = f"another ingest still holds the ingest lock after {wait_s:g} s; try again later"
    with _database_lock(engine, INGEST_LOCK_KEY, "ingest-lock", wait_s, busy):
        yield


@contextmanager
def _database_lock(
    engine: Engine, key: int, suffix: str, wait_s: float, busy: str
) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, key, wait_s, busy):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":  # one process owns an in-memory database
        yield
        return
    lock = FileLock(f"{Path(database).resolve()}.{suffix}")
    try:
        lock.acquire(timeout=wait_s)
    except FileLockTimeout:
        raise LockTimeout(busy) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _advisory_lock(engine: Engine, key: int, wait_s: float, busy: str) -> Iterator[None]:
    # Polling pg_try_advisory_lock keeps the wait bounded without a statement
    # that blocks for minutes (which a statement timeout would cut short).
    deadline = time.monotonic() + wait_s
    with engine.connect() as conn:
        while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            conn.commit()
            if time.monotonic() >= deadline:
                raise LockTimeout(busy)
            time.sleep(_POLL_S)
        conn.commit()  # the lock is the session's; no transaction stays open meanwhile
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _busy(wait_s: float) -> str:
    return f"another training still holds the training lock after {wait_s:g} s; try again later"
