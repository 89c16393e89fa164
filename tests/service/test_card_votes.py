"""Over HTTP: a vacancy many seekers rejected ranks lower for a new session once the vote
job ran, on every replica's poll, with nothing restarted."""

from __future__ import annotations

import time
import uuid

from tests.service.conftest import Server
from vacrec.app.vacancy_votes import refresh_vacancy_votes

BODY = {"age": 30, "skill": "акварель", "preference": "акварель живопись", "k": 2}


def _ask(server: Server, **extra: object) -> dict:
    response = server.client.post(
        "/api/v1/recommendations", json={**BODY, "explore": False, **extra}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _ids(answer: dict) -> list[str]:
    return [item["id"] for item in answer["items"]]


def test_a_vacancy_rejected_from_many_events_ranks_lower_for_a_new_session(
    server: Server,
) -> None:
    first = _ids(_ask(server))
    rejected, liked = first
    for _ in range(25):  # many events, each without a session (so nothing is excluded)
        answer = _ask(server)
        assert _ids(answer) == first  # no vote is applied before the job runs
        votes = [{"vacancy_id": rejected, "vote": -1}, {"vacancy_id": liked, "vote": 1}]
        response = server.client.post(
            "/api/v1/feedback", json={"event_id": answer["event_id"], "votes": votes}
        )
        assert response.status_code == 200, response.text

    report = refresh_vacancy_votes(server.engine, include_simulated=False)
    # One address (this test's) counts 20 votes a vacancy at most: a single client cannot
    # bury a posting however many requests it rates.
    assert report["votes"] == 40 and report["over_client_cap"] == 10
    deadline = time.monotonic() + 30  # the server's vote poll (0.2 s here) picks the sums up
    while (now := _ids(_ask(server, session_id=str(uuid.uuid4()))))[0] == rejected:
        assert time.monotonic() < deadline, "the server never picked up the vote sums"
        time.sleep(0.2)
    assert now[0] == liked and rejected not in now[:1]


def test_randomised_cards_carry_their_exact_position_propensity(make_server) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from vacrec.store.tables import events

    server = make_server(card_swap=1.0, epsilon=0.0)
    greedy = _ask(server)
    assert all("propensity" not in item for item in greedy["items"])
    orders = set()
    for _ in range(12):
        answer = _ask(server, explore=True)
        # k = 2 of 3 candidates, a swap every time: pair (0, 1) or (1, 2), half each, so
        # each shown card is at its place with probability 1/2.
        assert [item["propensity"] for item in answer["items"]] == [0.5, 0.5]
        with server.engine.connect() as conn:
            row = conn.execute(select(events).where(events.c.id == answer["event_id"])).one()
        assert row.card_propensities == [0.5, 0.5] and row.shown == _ids(answer)
        orders.add(tuple(_ids(answer)))
    ranker = tuple(_ids(greedy))
    assert ranker not in orders and len(orders) == 2
    assert {order[0] for order in orders} == set(ranker)  # each pair's swap was served
