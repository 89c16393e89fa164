"""Group commit on the real databases: concurrent writes share commits, every write that
returned is stored, a bad row fails only its own caller, and no caller waits unbounded."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.store.rows import new_event
from tests.writer_hold import WAIT_S, wait_queued, writer_held
from vacrec.app.group_commit import CommitTimeout, GroupCommit
from vacrec.errors import AlreadyRated, UnknownEvent
from vacrec.store import events as store
from vacrec.store.db import (
    LOCKED,
    TIMED_OUT,
    DbTimeouts,
    database_problem,
    make_engine,
    migrate,
    utcnow,
)
from vacrec.store.tables import catalog_versions, events, feedback

THREADS = 32


@pytest.fixture
def catalog(engine: Engine) -> Engine:
    """``engine`` with the catalog version events refer to."""
    with engine.begin() as conn:
        conn.execute(
            insert(catalog_versions).values(
                created_at=utcnow(), source="test", inserted=0, updated=0, vacancies=0
            )
        )
    return engine


@pytest.fixture
def commits(engine: Engine) -> list[int]:
    """One entry per transaction committed on ``engine`` from now on."""
    seen: list[int] = []
    event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


@contextmanager
def group_commit(engine: Engine, timeout_s: float = WAIT_S) -> Iterator[GroupCommit]:
    writes = GroupCommit(engine, timeout_s=timeout_s)
    try:
        yield writes
    finally:
        writes.close()


def in_threads(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[threading.Thread]]:
    """Start one thread per call; outcomes[i] is call i's result or the exception it raised."""
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except Exception as error:
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    return outcomes, threads


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def stored_events(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(events.c.id)).scalars())


def test_writes_queued_behind_a_commit_share_the_next_one(
    catalog: Engine, commits: list[int]
) -> None:
    with group_commit(catalog) as writes:
        with writer_held(writes):
            before = len(commits)
            calls = [
                lambda i=i: store.insert_event(writes, new_event(f"e{i}")) for i in range(THREADS)
            ]
            outcomes, threads = in_threads(calls)
            wait_queued(writes, THREADS)
        join(threads)
    assert outcomes == [None] * THREADS
    assert len(commits) - before == 2  # the held transaction, then all 32 writes in one
    assert stored_events(catalog) == {f"e{i}" for i in range(THREADS)}


def test_concurrent_writes_make_at_most_one_commit_each_and_every_row(
    catalog: Engine, commits: list[int]
) -> None:
    per_thread = 10
    start = threading.Barrier(THREADS)

    def writer(t: int) -> None:
        start.wait(WAIT_S)
        for i in range(per_thread):
            store.insert_event(writes, new_event(f"t{t}-{i}"))

    with group_commit(catalog) as writes:
        before = len(commits)
        outcomes, threads = in_threads([lambda t=t: writer(t) for t in range(THREADS)])
        join(threads)
    assert outcomes == [None] * THREADS
    assert len(commits) - before <= THREADS * per_thread
    assert stored_events(catalog) == {f"t{t}-{i}" for t in range(THREADS) for i in range(10)}


def test_a_write_that_returned_is_stored(catalog: Engine, database_url: str) -> None:
    """Acknowledged ⇒ committed: another engine sees each row the moment its write returned."""
    observer = make_engine(database_url)
    missing: list[str] = []

    def write_then_look(t: int) -> None:
        for i in range(5):
            event_id = f"t{t}-{i}"
            store.insert_event(writes, new_event(event_id))
            with observer.connect() as conn:
                if conn.execute(select(events.c.id).where(events.c.id == event_id)).first() is None:
                    missing.append(event_id)

    with group_commit(catalog) as writes:
        outcomes, threads = in_threads([lambda t=t: write_then_look(t) for t in range(THREADS)])
        join(threads)
    observer.dispose()
    assert outcomes == [None] * THREADS and missing == []


def test_one_bad_row_fails_only_its_own_write(catalog: Engine) -> None:
    store.insert_event(catalog, new_event("taken"))
    store.insert_event(catalog, new_event("rated"))
    store.record_feedback(catalog, "rated", ttl_s=60, cum_reward=1)
    with group_commit(catalog) as writes:
        with writer_held(writes):
            calls: list[Callable[[], Any]] = [
                lambda: store.insert_event(writes, new_event("good-1")),
                lambda: store.insert_event(writes, new_event("taken")),  # duplicate key
                lambda: store.record_feedback(writes, "nope", ttl_s=60, cum_reward=1),  # 404
                lambda: store.record_feedback(writes, "rated", ttl_s=60, cum_reward=1),  # 409
                lambda: store.insert_event(writes, new_event("good-2")),
                lambda: store.record_feedback(writes, "taken", ttl_s=60, cum_reward=-1),
            ]
            outcomes, threads = in_threads(calls)
            wait_queued(writes, len(calls))
        join(threads)
    assert outcomes[0] is None and outcomes[4] is None
    assert isinstance(outcomes[1], IntegrityError)
    assert isinstance(outcomes[2], UnknownEvent)
    assert isinstance(outcomes[3], AlreadyRated)
    assert isinstance(outcomes[5], store.StoredFeedback) and outcomes[5].cum_reward == -1
    assert stored_events(catalog) == {"taken", "rated", "good-1", "good-2"}
    with catalog.connect() as conn:
        rated = dict(conn.execute(select(feedback.c.event_id, feedback.c.cum_reward)).all())
    assert rated == {"rated": 1, "taken": -1}


def test_a_write_still_queued_at_its_timeout_is_withdrawn(catalog: Engine) -> None:
    with group_commit(catalog, timeout_s=0.2) as writes:
        with writer_held(writes):
            with pytest.raises(CommitTimeout) as raised:
                store.insert_event(writes, new_event("late"))
            assert database_problem(raised.value) == TIMED_OUT
        store.insert_event(writes, new_event("after"))
    assert stored_events(catalog) == {"after"}  # "late" never ran: nobody was told it did


def test_a_batch_the_database_refuses_fails_with_its_cause_and_the_next_one_passes(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url, DbTimeouts(lock_s=0.2))
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(catalog_versions).values(
                created_at=utcnow(), source="test", inserted=0, updated=0, vacancies=0
            )
        )
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    with group_commit(engine) as writes:
        other.execute("BEGIN IMMEDIATE")  # another process's writer holds SQLite's lock
        try:
            with pytest.raises(OperationalError) as raised:
                store.insert_event(writes, new_event("blocked"))
            assert database_problem(raised.value) == LOCKED
        finally:
            other.execute("ROLLBACK")
        store.insert_event(writes, new_event("after"))
    other.close()
    assert stored_events(engine) == {"after"}
    engine.dispose()


def test_writes_after_close_commit_alone(catalog: Engine, commits: list[int]) -> None:
    writes = GroupCommit(catalog, timeout_s=WAIT_S)
    writes.close()
    before = len(commits)
    store.insert_event(writes, new_event("late"))
    assert len(commits) - before == 1
    with catalog.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1
