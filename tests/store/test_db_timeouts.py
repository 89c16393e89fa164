"""Every database wait is bounded, and each failure is named by its real cause."""

from __future__ import annotations

import socket
import sqlite3
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from vacrec.store.db import (
    DISK_FULL,
    LOCKED,
    TIMED_OUT,
    DbTimeouts,
    DiskFull,
    commit_heartbeat,
    database_problem,
    make_engine,
    may_idle_while_computing,
    migrate,
    read_transaction,
    utcnow,
)
from vacrec.store.tables import catalog_versions, heartbeats


def _new_version(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(catalog_versions).values(
                created_at=utcnow(), source="t", inserted=0, updated=0, vacancies=0
            )
        )


def test_sqlite_waits_for_a_held_write_lock_only_as_long_as_told(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, DbTimeouts(lock_s=0.5))
    migrate(engine)
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer, mid-transaction
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught:
            _new_version(engine)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert 0.4 < waited < 3
    assert database_problem(caught.value) == LOCKED
    _new_version(engine)  # the lock is gone: writes go through again
    engine.dispose()


def test_batch_engines_keep_waiting_longer(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_a_pool_with_no_free_connection_fails_fast(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, DbTimeouts(pool_s=0.3))
    held = [engine.connect() for _ in range(15)]  # pool_size 5 + max_overflow 10
    try:
        started = time.monotonic()
        with pytest.raises(PoolTimeout) as caught:
            engine.connect()
        assert time.monotonic() - started < 2
        assert database_problem(caught.value) == TIMED_OUT
    finally:
        for conn in held:
            conn.close()
        engine.dispose()


@pytest.mark.postgres
def test_postgres_statement_timeout_ends_a_slow_statement(postgres_url: str) -> None:
    engine = make_engine(postgres_url, DbTimeouts(statement_s=0.5, lock_s=0.5))
    started = time.monotonic()
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(10)"))
    assert time.monotonic() - started < 3
    assert database_problem(caught.value) == TIMED_OUT
    with engine.connect() as conn:  # the URL's own options (search_path) were kept
        assert conn.execute(text("SHOW search_path")).scalar().startswith("t_")
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "500ms"
    engine.dispose()


@pytest.mark.postgres
def test_postgres_lock_timeout_is_named_locked(postgres_url: str) -> None:
    engine = make_engine(postgres_url, DbTimeouts(statement_s=5, lock_s=0.5))
    migrate(engine)
    other = make_engine(postgres_url)
    with other.connect() as locker:
        locker.execute(text("LOCK TABLE catalog_versions IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught:
            _new_version(engine)
        assert time.monotonic() - started < 3
        locker.rollback()
    assert database_problem(caught.value) == LOCKED
    other.dispose()
    engine.dispose()


@pytest.mark.parametrize("lifted", [False, True])
def test_a_snapshot_read_may_idle_while_it_computes(postgres_url: str, lifted: bool) -> None:
    # A session idle in its transaction past the bound is ended, except a read transaction
    # told that its caller computes between reads (a snapshot build).
    engine = make_engine(postgres_url, DbTimeouts(idle_in_transaction_s=0.5))
    ended = nullcontext() if lifted else pytest.raises(DBAPIError, match="idle-in-transaction")
    try:
        with ended, read_transaction(engine) as conn:
            if lifted:
                may_idle_while_computing(conn)
            conn.execute(text("SELECT 1"))
            time.sleep(1.5)  # computing, three times the bound
            assert conn.execute(text("SELECT 2")).scalar() == 2
    finally:
        engine.dispose()


def test_a_server_that_never_answers_costs_the_connect_timeout() -> None:
    # A listening socket nobody serves: TCP connects (the kernel's backlog), the
    # PostgreSQL handshake never comes, as with a frozen server.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://x@127.0.0.1:{port}/x", DbTimeouts(connect_s=2))
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught:
            engine.connect()
        assert time.monotonic() - started < 6
        assert database_problem(caught.value) == TIMED_OUT
    finally:
        engine.dispose()
        silent.close()


def test_heartbeat_upserts_one_row_per_worker(engine: Engine) -> None:
    commit_heartbeat(engine, "host:1")
    commit_heartbeat(engine, "host:1")
    commit_heartbeat(engine, "host:2")
    with engine.connect() as conn:
        rows = conn.execute(select(heartbeats.c.worker).order_by(heartbeats.c.worker)).all()
    assert [r[0] for r in rows] == ["host:1", "host:2"]


def test_heartbeat_says_disk_full_when_sqlite_cannot_grow(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    commit_heartbeat(engine, "w")  # room enough

    @event.listens_for(engine, "connect")
    def _no_room(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # SQLite's own limit: past it every allocation fails with SQLITE_FULL, as on a full disk.
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    engine.dispose()
    with pytest.raises(DiskFull) as caught:
        commit_heartbeat(engine, "w")
    assert database_problem(caught.value) == DISK_FULL
    with pytest.raises(OperationalError) as failed:  # and the writes it predicts do fail so
        for _ in range(2000):
            _new_version(engine)
    assert database_problem(failed.value) == DISK_FULL
    engine.dispose()


def test_heartbeat_says_disk_full_below_the_free_space_floor(sqlite_engine: Engine) -> None:
    with pytest.raises(DiskFull):
        commit_heartbeat(sqlite_engine, "w", min_free_bytes=1 << 62)  # no disk is that large
