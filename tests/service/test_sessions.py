"""A seeker's session: what they rejected never comes back, asking again gives the next
best cards, and an industry they keep rejecting is tried last for them."""

from __future__ import annotations

import uuid

from tests.service.conftest import ARTS, Server, ServerFactory

BODY = {"age": 30, "skill": "акварель", "preference": "акварель живопись", "k": 2}


def _ask(server: Server, session: str | None, **extra: object) -> dict:
    body = {**BODY, "explore": False, **extra}
    if session is not None:
        body["session_id"] = session
    response = server.client.post("/api/v1/recommendations", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _rate_all(server: Server, answer: dict, vote: int) -> None:
    votes = [{"vacancy_id": item["id"], "vote": vote} for item in answer["items"]]
    response = server.client.post(
        "/api/v1/feedback", json={"event_id": answer["event_id"], "votes": votes}
    )
    assert response.status_code == 200, response.text


def _ids(answer: dict) -> list[str]:
    return [item["id"] for item in answer["items"]]


def test_rejected_cards_never_come_back_and_the_next_best_are_shown(server: Server) -> None:
    session = str(uuid.uuid4())
    first = _ask(server, session)
    assert first["action"]["industry"] == ARTS and first["session"]["rejected"] == 0
    _rate_all(server, first, -1)

    second = _ask(server, session)
    assert second["action"]["industry"] == ARTS  # two rejections: not enough to give up on it
    assert set(_ids(second)).isdisjoint(_ids(first))
    assert len(second["items"]) == 2 and second["session"]["rejected"] == 2
    assert second["session"]["shown_before"] == 0

    # Without a session (or in another one) the same request gets the first cards again.
    assert _ids(_ask(server, None)) == _ids(first)
    assert _ids(_ask(server, str(uuid.uuid4()))) == _ids(first)
    assert _ask(server, None)["session"] is None


def test_shown_cards_come_back_only_when_nothing_else_fits(server: Server) -> None:
    session = str(uuid.uuid4())
    seen: list[str] = []
    for _ in range(2):  # the arts industry has four postings: two answers of two
        answer = _ask(server, session)
        assert set(_ids(answer)).isdisjoint(seen)
        seen += _ids(answer)
    again = _ask(server, session)
    assert set(_ids(again)) <= set(seen) and len(again["items"]) == 2
    assert again["session"]["shown_before"] == 2


def test_an_industry_mostly_rejected_is_tried_last_in_that_session(server: Server) -> None:
    session = str(uuid.uuid4())
    first = _ask(server, session)
    _rate_all(server, first, -1)
    second = _ask(server, session)
    _rate_all(server, second, -1)  # four votes, all −1

    third = _ask(server, session)
    assert third["action"]["industry"] != ARTS
    assert third["session"]["avoided"] == [ARTS]
    assert _ask(server, str(uuid.uuid4()))["action"]["industry"] == ARTS


def test_a_session_id_shares_nothing_across_clients(make_server: ServerFactory) -> None:
    server = make_server(trusted_proxies="127.0.0.1")
    session = str(uuid.uuid4())
    victim = {"X-Forwarded-For": "203.0.113.1"}
    other = {"X-Forwarded-For": "203.0.113.2"}
    body = {**BODY, "explore": False, "session_id": session}
    first = server.client.post("/api/v1/recommendations", json=body, headers=victim).json()
    votes = [{"vacancy_id": i["id"], "vote": -1} for i in first["items"]]
    server.client.post(
        "/api/v1/feedback", json={"event_id": first["event_id"], "votes": votes}, headers=victim
    )

    theirs = server.client.post("/api/v1/recommendations", json=body, headers=other).json()
    assert _ids(theirs) == _ids(first) and theirs["session"]["rejected"] == 0
