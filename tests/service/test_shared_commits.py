"""The server's writes go through group commit: concurrent requests are answered after the
one commit they share, and a request whose write outwaits the database timeout is a 503."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, event, func, select

from tests.service.conftest import AppStart, live_apps
from tests.writer_hold import WAIT_S, wait_queued, writer_held
from vacrec.app.group_commit import GroupCommit
from vacrec.store.tables import events

REC = {"age": 30, "skill": "акварель", "preference": "акварель"}
REQUESTS = 8


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[AppStart]:
    """Start a seeded server; yields (app, client)."""
    with live_apps(
        database_url,
        tmp_path,
        WAIT_S,
        rate_limit_recommendations="off",
        rate_limit_rewards="off",
    ) as start:
        yield start


def test_concurrent_requests_are_answered_after_the_commit_they_share(live: AppStart) -> None:
    app, client = live()
    writes = app.state.recommender.writes
    assert isinstance(writes, GroupCommit)
    commits: list[str] = []

    @event.listens_for(app.state.engine, "commit")
    def _count(_conn: Connection) -> None:
        if threading.current_thread().name == "group-commit":  # not the pollers' reads
            commits.append("commit")

    answers: list[httpx.Response] = []

    def recommend() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=WAIT_S) as own:
            answers.append(own.post("/api/v1/recommendations", json=REC))

    with writer_held(writes):
        threads = [threading.Thread(target=recommend) for _ in range(REQUESTS)]
        for thread in threads:
            thread.start()
        wait_queued(writes, REQUESTS)  # every request decided, its event waiting
        assert answers == []  # nothing is answered before its commit
        before = len(commits)
    for thread in threads:
        thread.join(WAIT_S)
    assert [a.status_code for a in answers] == [200] * REQUESTS
    assert len(commits) - before == 2  # the held transaction, then the eight events in one
    served = {a.json()["event_id"] for a in answers}
    with app.state.engine.connect() as conn:
        stored = set(conn.execute(select(events.c.id).where(events.c.id.in_(served))).scalars())
    assert stored == served

    ratings = [
        client.post("/api/v1/feedback", json={"event_id": event_id, "cum_reward": 1})
        for event_id in served
    ]
    assert [r.status_code for r in ratings] == [200] * REQUESTS


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_that_outwaits_the_database_timeout_is_a_503(live: AppStart) -> None:
    app, client = live(db_timeout_s=1.0, retry_after_s=2)
    with writer_held(app.state.recommender.writes):
        refused = client.post("/api/v1/recommendations", json=REC)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "2"
        assert "did not answer in time" in refused.json()["detail"]
    served = client.post("/api/v1/recommendations", json=REC)
    assert served.status_code == 200
    with app.state.engine.connect() as conn:
        # The refused request's event was withdrawn before it ran: only the served one is kept.
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1
