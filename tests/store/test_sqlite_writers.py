"""SQLite writers of one process queue on a lock of their own, so ordinary load never meets
"database is locked", and the lock is given back on every way a transaction ends."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from vacrec.store.db import DbTimeouts, make_engine, migrate, utcnow
from vacrec.store.tables import catalog_versions, heartbeats

THREADS, WRITES = 32, 25


def _write(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(catalog_versions).values(
                created_at=utcnow(), source="t", inserted=0, updated=0, vacancies=0
            )
        )


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(catalog_versions)).scalar_one()


def test_many_threads_writing_at_once_all_succeed(sqlite_url: str) -> None:
    # Serving's lock wait (0.8 × VACREC_DB_TIMEOUT_S); 32 threads, as 32 clients on one
    # worker. Queued first come, first served, none may run out of it (before the writers'
    # lock, SQLite's polling let some threads lose every round whatever the wait).
    engine = make_engine(sqlite_url, DbTimeouts(lock_s=2.4, pool_s=30))
    migrate(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer() -> None:
        start.wait()
        for _ in range(WRITES):
            try:
                _write(engine)
            except Exception as error:  # every failure is the finding
                errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(engine) == THREADS * WRITES
    engine.dispose()


def test_two_engines_on_one_file_share_the_writers_lock(sqlite_url: str) -> None:
    # A write on the second engine queues behind the first engine's open write on this
    # process's lock, not in SQLite's busy wait: its refusal names our lock.
    first = make_engine(sqlite_url, DbTimeouts(lock_s=0.3))
    migrate(first)
    second = make_engine(sqlite_url, DbTimeouts(lock_s=0.3))
    with first.begin() as held:
        held.execute(insert(heartbeats).values(worker="held", beat_at=utcnow()))
        with pytest.raises(OperationalError, match="this process's writers"):
            _write(second)
    _write(second)  # given back once the first write ended
    assert _count(first) == 1
    first.dispose()
    second.dispose()


def test_two_engines_writing_at_once_all_succeed(sqlite_url: str) -> None:
    # The lock wait of the serving default (0.8 x 3 s), not a tight one: on a loaded
    # machine 16 queued writers can take longer than half a second to drain.
    first = make_engine(sqlite_url, DbTimeouts(lock_s=2.4))
    migrate(first)
    second = make_engine(sqlite_url, DbTimeouts(lock_s=2.4))
    errors: list[BaseException] = []

    def writer(engine: Engine) -> None:
        for _ in range(WRITES):
            try:
                _write(engine)
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(e,)) for e in [first, second] * 8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and _count(first) == 16 * WRITES
    first.dispose()
    second.dispose()


def test_the_lock_is_given_back_when_a_write_fails_or_is_abandoned(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, DbTimeouts(lock_s=0.3))
    migrate(engine)
    row = {"worker": "w", "beat_at": utcnow()}
    with engine.begin() as conn:
        conn.execute(insert(heartbeats).values(**row))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(heartbeats).values(**row))  # duplicate key: rolled back
    conn = engine.connect()
    conn.execute(insert(heartbeats).values(worker="x", beat_at=utcnow()))
    conn.close()  # closed mid-transaction: the pool's reset rolls back
    conn = engine.connect()
    conn.execute(insert(heartbeats).values(worker="y", beat_at=utcnow()))
    conn.invalidate()  # a connection thrown away mid-transaction
    conn.close()
    done = threading.Event()  # another thread: a lock still held would make it wait, then fail
    thread = threading.Thread(target=lambda: (_write(engine), done.set()))
    thread.start()
    thread.join()
    assert done.is_set() and _count(engine) == 1
    engine.dispose()
