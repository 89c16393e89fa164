"""Engines and schema migration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "vacrec_read_only"
_PG_MIGRATION_LOCK = 7_305_002  # advisory lock: one migrating process at a time


def utcnow() -> datetime:
    """The current time, timezone-aware, for every timestamp we store."""
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    WAL lets readers (the serving workers) go on while a writer commits, and
    the busy timeout turns lock contention between processes into waiting
    rather than errors.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so
        # that ``engine.begin()`` really is one atomic transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: two writers wait for each
        # other instead of failing half-way with "database is locked". Readers
        # that asked for it (see ``read_transaction``) take a plain snapshot and
        # never hold writers up.
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """One consistent read-only transaction that never blocks writers.

    For the pollers and snapshot builds that run beside request traffic: on
    SQLite an ordinary transaction here takes the write lock; this one reads a
    WAL snapshot instead. On PostgreSQL it is an ordinary transaction.
    """
    with engine.connect().execution_options(**{_READ_ONLY: True}) as conn, conn.begin():
        yield conn


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
