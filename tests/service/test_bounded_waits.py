"""Whatever the database does, requests end within seconds: a 503 naming the cause."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from tests.service.conftest import AppStart, live_apps
from vacrec.store.db import make_engine

REC = {"age": 30, "skill": "акварель"}


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[AppStart]:
    """Start a seeded server with short database bounds; yields (app, client)."""
    with live_apps(
        database_url, tmp_path, 60, db_timeout_s=1.0, retry_after_s=2, ready_write_every_s=0
    ) as start:
        yield start


@contextmanager
def sqlite_write_lock(app: FastAPI) -> Iterator[None]:
    """Another process's writer holding the SQLite write lock."""
    path = app.state.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _timed(fn: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = fn()
    return response, time.monotonic() - started


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_held_write_lock_gives_a_fast_503_then_service_resumes(live) -> None:  # type: ignore[no-untyped-def]
    app, client = live()
    with sqlite_write_lock(app):
        response, took = _timed(lambda: client.post("/api/v1/recommendations", json=REC))
        assert response.status_code == 503 and took < 4, took
        assert response.headers["retry-after"] == "2"
        assert "locked" in response.json()["detail"]
        legacy = client.get("/api/recommend/", params=REC)
        assert legacy.status_code == 503 and "locked" in legacy.json()["details"]
        ready, took = _timed(lambda: client.get("/readyz"))
        assert ready.status_code == 503 and took < 4
        assert ready.json()["database_problem"] == "locked" and ready.json()["catalog"] is True
    assert client.post("/api/v1/recommendations", json=REC).status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readyz_answers_within_its_bound_while_the_check_hangs(live) -> None:  # type: ignore[no-untyped-def]
    app, client = live(db_timeout_s=6.0, ready_timeout_s=0.5)
    with sqlite_write_lock(app):
        for _ in range(3):  # repeated probes share the one check still waiting
            ready, took = _timed(lambda: client.get("/readyz"))
            # Answered at its 0.5 s bound, not after the check's 4.8 s lock wait (the margin
            # is for a loaded machine).
            assert ready.status_code == 503 and took < 4.0, took
            assert ready.json()["database_problem"] == "timed out"
        assert sum(t.name == "readyz-db" for t in threading.enumerate()) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_healthz_answers_while_the_database_holds_every_request_thread(live) -> None:  # type: ignore[no-untyped-def]
    # Lock waits of 4 s; a pool wait longer than that, so no request can have ended (a
    # pool timeout) by the time /healthz is asked, however loaded the machine.
    app, client = live(db_timeout_s=5.0, db_pool_timeout_s=10.0)
    results: list[int] = []

    def recommend() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=60) as own:
            results.append(own.post("/api/v1/recommendations", json=REC).status_code)

    with sqlite_write_lock(app):
        waiting = [threading.Thread(target=recommend) for _ in range(60)]  # > the 40 threads
        for thread in waiting:
            thread.start()
        time.sleep(1.0)  # they are all inside, waiting for the lock
        health, took = _timed(lambda: client.get("/healthz"))
        assert health.status_code == 200 and took < 3.0, took  # not after a 4 s lock wait
        assert not results, "the requests should still be waiting"
        for thread in waiting:
            thread.join()
    assert set(results) == {503} and len(results) == 60


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_full_disk_is_named_by_readyz_and_by_the_503(live) -> None:  # type: ignore[no-untyped-def]
    app, client = live()
    assert client.get("/readyz").status_code == 200
    engine = app.state.engine

    @event.listens_for(engine, "connect")
    def _no_room(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # SQLite's own page limit: past it writes fail with SQLITE_FULL, as on a full disk.
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    engine.dispose()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database_problem"] == "disk full"
    for _ in range(500):
        response = client.post("/api/v1/recommendations", json=REC)
        if response.status_code != 200:
            break
    assert response.status_code == 503
    assert "disk is full" in response.json()["detail"]
    assert response.headers["retry-after"] == "2"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_read_only_database_is_named_by_readyz_and_by_the_503(live) -> None:  # type: ignore[no-untyped-def]
    app, client = live()
    engine = app.state.engine
    path = engine.url.database

    @event.listens_for(engine, "do_connect")
    def _read_only(dialect, record, cargs, cparams):  # type: ignore[no-untyped-def]
        # What SQLite does with a file it may not write (a read-only mount, lost
        # permissions): it opens it read-only. Root ignores chmod, so ask directly.
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    engine.dispose()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database_problem"] == "read-only"
    response = client.post("/api/v1/recommendations", json=REC)
    assert response.status_code == 503 and "read-only" in response.json()["detail"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_lock_wait_ends_in_a_503(live, database_url: str) -> None:  # type: ignore[no-untyped-def]
    _app, client = live()
    other = make_engine(database_url)
    with other.connect() as locker:
        locker.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        response, took = _timed(lambda: client.post("/api/v1/recommendations", json=REC))
        locker.rollback()
    other.dispose()
    assert response.status_code == 503 and took < 4, took
    assert "locked" in response.json()["detail"] and response.headers["retry-after"] == "2"
    assert client.post("/api/v1/recommendations", json=REC).status_code == 200
