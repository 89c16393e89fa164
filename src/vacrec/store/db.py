"""Engines and schema migration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from vacrec.store.lock_ids import AdvisoryLock
from vacrec.store.tables import heartbeats

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_READ_ONLY = "vacrec_read_only"
_PG_MIGRATION_LOCK = int(
    AdvisoryLock.MIGRATION
)  # a plain int: psycopg would send an Enum by its name


def utcnow() -> datetime:
    """The current time, timezone-aware, for every timestamp we store."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class DbTimeouts:
    """How long any database wait may last. The defaults suit batch commands (ingest,
    train, migrate), which may wait out another writer; the service passes seconds."""

    lock_s: float = 30.0
    """SQLite busy timeout; PostgreSQL lock_timeout."""
    statement_s: float | None = None
    """PostgreSQL statement_timeout (None: unlimited, for long training reads)."""
    idle_in_transaction_s: float | None = None
    """PostgreSQL: end a session that sits in an open transaction this long (and its locks)."""
    connect_s: int = 10
    """Opening a connection (libpq connect_timeout; it counts whole seconds, at least 2)."""
    pool_s: float = 30.0
    """Waiting for a free pooled connection."""


def _postgres_url(parsed: URL, timeouts: DbTimeouts) -> URL:
    """``parsed`` with our session timeouts added to libpq's ``options`` (kept, not replaced):
    they travel in the startup packet, so every connection has them from its first query."""
    settings = {"lock_timeout": timeouts.lock_s}
    if timeouts.statement_s is not None:
        settings["statement_timeout"] = timeouts.statement_s
    if timeouts.idle_in_transaction_s is not None:
        settings["idle_in_transaction_session_timeout"] = timeouts.idle_in_transaction_s
    existing = parsed.query.get("options")
    if isinstance(existing, tuple):
        existing = " ".join(existing)
    flags = [f"-c {name}={round(seconds * 1000)}" for name, seconds in settings.items()]
    return parsed.update_query_dict({"options": " ".join([*filter(None, [existing]), *flags])})


def _switch_to_wal(cursor: sqlite3.Cursor, deadline_s: float) -> None:
    """Put the file in WAL mode, waiting at most ``deadline_s`` for the other openers.

    Several processes opening a fresh file at once each hold a shared lock and want the
    exclusive one to switch modes; SQLite breaks that deadlock by failing one of them at
    once, without its busy handler, so the busy timeout alone does not cover it. A file
    already in WAL (the mode is stored in the file) returns on the first try.
    """
    give_up_at = time.monotonic() + deadline_s
    pause_s = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            left_s = give_up_at - time.monotonic()
            if "locked" not in str(error) or left_s <= 0:
                raise
        # Jitter, so the racers do not collide again; the last pause ends at the deadline,
        # where one more try is made.
        time.sleep(min(pause_s * (0.5 + random.random()), left_s))
        pause_s = min(pause_s * 2, 0.2)


def make_engine(url: str, timeouts: DbTimeouts | None = None) -> Engine:
    """An engine for ``url`` whose every wait is bounded by ``timeouts``.

    SQLite gets WAL, foreign keys and a busy timeout: WAL lets readers (the
    serving workers) go on while a writer commits, and the busy timeout turns
    lock contention between processes into a bounded wait rather than an error.
    PostgreSQL gets connect, lock and statement timeouts, so a hung server
    costs a request seconds, not minutes.
    """
    timeouts = timeouts if timeouts is not None else DbTimeouts()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            _postgres_url(parsed, timeouts),
            pool_pre_ping=True,
            pool_timeout=timeouts.pool_s,
            connect_args={"connect_timeout": max(2, timeouts.connect_s)},
            future=True,
        )

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    busy_timeout_ms = round(timeouts.lock_s * 1000)
    writer = _writer_lock(parsed.database)
    engine = create_engine(
        url,
        future=True,
        pool_timeout=timeouts.pool_s,
        connect_args={
            "check_same_thread": False,
            "timeout": timeouts.lock_s,
            "factory": _WriterConnection,
        },
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so
        # that ``engine.begin()`` really is one atomic transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching a fresh file to WAL needs its lock too, and a
        # process starting while another migrates must wait for it, not fail.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        _switch_to_wal(cursor, timeouts.lock_s)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # No memory-mapped reads of the database file: an I/O error or a file cut short under
        # a mapping is a SIGBUS that kills the worker, where a read() is an error we answer.
        cursor.execute("PRAGMA mmap_size=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: two writers wait for each
        # other instead of failing half-way with "database is locked". Readers
        # that asked for it (see ``read_transaction``) take a plain snapshot and
        # never hold writers up.
        # Writers of this process first queue on a lock of their own (one writer per
        # process and file at a time), so SQLite's busy wait only ever sees one writer
        # per process: its polling (sleeps up to 100 ms, first come not first served)
        # let some of 32 threads lose every round until their busy timeout ended in
        # "locked".
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi = conn.connection.dbapi_connection
        if isinstance(dbapi, _WriterConnection):
            dbapi.take_writer_lock(writer, timeouts.lock_s)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(dbapi, _WriterConnection):
                dbapi.release_writer_lock()
            raise

    database = parsed.database if parsed.database and parsed.database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _note_read_only(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        # SQLite opens a file it may not write read-only, and such a connection stays so
        # when the file becomes writable again: remember, to replace it then (below).
        record.info[_OPENED_READ_ONLY] = database is not None and _not_writable(database)

    @event.listens_for(engine, "checkout")
    def _replace_read_only(_dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if record.info.get(_OPENED_READ_ONLY) and not _not_writable(database or ""):
            raise sa_exc.DisconnectionError("the database file is writable again")

    @event.listens_for(engine, "handle_error")
    def _discard_broken(context) -> None:  # type: ignore[no-untyped-def]
        # A connection that met a read-only file, a full disk or an I/O error may stay that
        # way after the cause is gone (SQLite opens a file it may not write read-only, for
        # good): discard every pooled connection, so the next request opens fresh ones and
        # serving recovers by itself once the condition clears.
        code = getattr(context.original_exception, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE_DISCARD:
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = True

    return engine


_OPENED_READ_ONLY = "vacrec_opened_read_only"


def _not_writable(path: str) -> bool:
    """True when this process may not write ``path`` (an immutable file even for root)."""
    return os.path.exists(path) and not os.access(path, os.W_OK)


_SQLITE_DISCARD = {8, 10, 11, 13, 14, 26}  # READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB
_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(database: str | None) -> threading.Lock:
    """The lock this process's writers of ``database`` queue on (one per file, shared by
    every engine on it; an in-memory database is private to its connection)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return threading.Lock()
    key = os.path.realpath(database)
    with _writer_locks_guard:
        return _writer_locks.setdefault(key, threading.Lock())


class _WriterConnection(sqlite3.Connection):
    """A pysqlite connection that holds its process's writer lock from BEGIN IMMEDIATE
    until the transaction really ended (after COMMIT or ROLLBACK ran, or the connection
    closed), whatever path ends it: SQLAlchemy's commit, rollback, reset on return to
    the pool, or invalidation."""

    _held: threading.Lock | None = None

    def take_writer_lock(self, lock: threading.Lock, timeout_s: float) -> None:
        if not lock.acquire(timeout=timeout_s):
            error = sqlite3.OperationalError("database is locked (by this process's writers)")
            error.sqlite_errorcode = 5  # SQLITE_BUSY, as SQLite's own busy timeout says it
            raise sa_exc.OperationalError("BEGIN IMMEDIATE", None, error)
        self._held = lock

    def release_writer_lock(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()

    def commit(self) -> None:
        self._end_transaction(super().commit)

    def rollback(self) -> None:
        self._end_transaction(super().rollback)

    def _end_transaction(self, end: Callable[[], None]) -> None:
        """Run COMMIT or ROLLBACK; release the lock once no transaction is left open, even
        when the statement failed after ending it."""
        try:
            end()
        finally:
            if not self.in_transaction:
                self.release_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer_lock()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """One consistent read-only transaction that never blocks writers.

    For the pollers and snapshot builds that run beside request traffic: on
    SQLite an ordinary transaction here takes the write lock; this one reads a
    WAL snapshot instead. On PostgreSQL it is an ordinary transaction.
    """
    with engine.connect().execution_options(**{_READ_ONLY: True}) as conn, conn.begin():
        yield conn


def may_idle_while_computing(conn: Connection) -> None:
    """Let this read transaction sit idle while its caller computes between reads (a snapshot
    build reads the catalog in one transaction, then encodes and indexes it before the
    transaction ends). On PostgreSQL it lifts ``idle_in_transaction_session_timeout`` for this
    transaction only: under load the build outlasted the service's 30 s and the server died
    at startup. It holds only share locks; every statement stays bounded. SQLite: nothing."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))


def without_write_lock(conn: Connection) -> Connection:
    """``conn``, whose transactions from now on begin as :func:`read_transaction`'s do: on
    SQLite they read a snapshot and may write only TEMP tables, taking no lock a writer
    waits for (for an ingest's staging). Undo with :func:`with_write_lock`."""
    return conn.execution_options(**{_READ_ONLY: True})


def with_write_lock(conn: Connection) -> Connection:
    """``conn``, whose transactions from now on are ordinary (write) transactions again."""
    return conn.execution_options(**{_READ_ONLY: False})


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration pointing at our packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration (idempotent, safe to race).

    Several workers or replicas may start at once: on PostgreSQL an advisory
    lock lets one migrate while the others wait and then find nothing to do
    (on SQLite the migration's own IMMEDIATE transaction does the same).
    """
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
            lock.commit()


# Why the database cannot serve, as /readyz and 503 messages name it.
DISK_FULL = "disk full"
READ_ONLY = "read-only"
LOCKED = "locked"
TIMED_OUT = "timed out"
IO_ERROR = "I/O error"
UNREACHABLE = "unreachable"

_SQLITE_CAUSES = {5: LOCKED, 6: LOCKED, 8: READ_ONLY, 10: IO_ERROR, 13: DISK_FULL, 14: UNREACHABLE}
_PG_CAUSES = {
    "57014": TIMED_OUT,  # query_canceled: statement_timeout
    "25P03": TIMED_OUT,  # idle_in_transaction_session_timeout
    "55P03": LOCKED,  # lock_not_available: lock_timeout
    "40P01": LOCKED,  # deadlock_detected
    "53100": DISK_FULL,
    "25006": READ_ONLY,  # read_only_sql_transaction (a standby, or default_transaction_read_only)
}


class DiskFull(Exception):
    """The database has no room for the next write (SQLite page limit or free space)."""


def database_problem(error: BaseException) -> str | None:
    """Why ``error`` means the database cannot serve now (one of the causes above), or
    None when it is not an availability problem (a constraint, a bug in a query)."""
    if isinstance(error, DiskFull):
        return DISK_FULL
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return TIMED_OUT
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_CAUSES:
        return _SQLITE_CAUSES[code & 0xFF]
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _PG_CAUSES:
        return _PG_CAUSES[sqlstate]
    invalidated = getattr(error, "connection_invalidated", False)
    if invalidated or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return TIMED_OUT if "timeout" in str(orig).lower() else UNREACHABLE
    return None


_HEARTBEAT_KEEP = timedelta(days=1)
_SQLITE_MIN_FREE_PAGES = 16


def _sqlite_room(conn: Connection, min_free_bytes: int) -> None:
    """Raise :class:`DiskFull` when the next few inserts could not get a page.

    Updating the heartbeat row rewrites a page that exists (and SQLite reuses its
    WAL file in place), so that commit alone can succeed on a full disk while
    every new event fails; hence this explicit check of room to grow.
    """
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    limit = conn.exec_driver_sql("PRAGMA max_page_count").scalar_one()
    free_pages = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
    if limit - pages + free_pages < _SQLITE_MIN_FREE_PAGES:
        raise DiskFull(f"the database is at its page limit ({limit} pages)")
    path = conn.exec_driver_sql("PRAGMA database_list").first()
    if path is not None and path[2]:
        free = shutil.disk_usage(Path(path[2]).parent).free
        if free < min_free_bytes:
            raise DiskFull(f"{free} bytes free on the database's filesystem")


def commit_heartbeat(engine: Engine, worker: str, min_free_bytes: int = 0) -> None:
    """Prove a write commits: upsert ``worker``'s heartbeat row (pruning day-old rows of
    workers gone) in one transaction; raises what a request's write would meet."""
    now = utcnow()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            _sqlite_room(conn, min_free_bytes)
        beat = update(heartbeats).where(heartbeats.c.worker == worker).values(beat_at=now)
        if conn.execute(beat).rowcount == 0:
            conn.execute(insert(heartbeats).values(worker=worker, beat_at=now))
        conn.execute(delete(heartbeats).where(heartbeats.c.beat_at < now - _HEARTBEAT_KEEP))
