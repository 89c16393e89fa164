"""Two feedbacks racing on one event: one 200, one 409, exactly one stored row."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import func, select

from tests.service.conftest import Server
from vacrec.store.tables import feedback

ROUNDS = 4


def _race(url: str, event_id: str) -> list[int]:
    """Send two feedbacks for ``event_id`` at the same moment from two clients."""
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send(reward: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            barrier.wait()
            response = client.post(
                "/api/v1/feedback", json={"event_id": event_id, "cum_reward": reward}
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(r,)) for r in (1, -1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_concurrent_double_feedback(server: Server) -> None:
    for _ in range(ROUNDS):
        event = server.client.post(
            "/api/v1/recommendations", json={"age": 30, "skill": "акварель"}
        ).json()
        assert sorted(_race(server.url, event["event_id"])) == [200, 409]
        with server.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(feedback)
                .where(feedback.c.event_id == event["event_id"])
            ).scalar_one()
        assert count == 1
