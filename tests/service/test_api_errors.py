"""Every error a client can cause: the right 4xx, JSON, naming the field, never a 500."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tests.service.conftest import Server
from vacrec.domain import SkillVocabulary
from vacrec.store.tables import feedback

GOOD = {"age": 30, "skill": "акварель", "preference": "живопись"}


def _event(server: Server, k: int = 2) -> dict:
    response = server.client.post("/api/v1/recommendations", json=GOOD | {"k": k})
    assert response.status_code == 200, response.text
    return response.json()


def _feedback(server: Server, body: object):  # type: ignore[no-untyped-def]
    return server.client.post("/api/v1/feedback", json=body)


def _detail(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) <= {"detail", "errors"} and isinstance(body["detail"], str)
    return body["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 13}, "age"),
        ({"age": 101}, "age"),
        ({"age": "30"}, "age"),
        ({"age": 30.5}, "age"),
        ({"age": True}, "age"),
        ({"age": 10**30}, "age"),
        ({"age": None}, "age"),
        ({"skill": 5}, "skill"),
        ({"skill": ""}, "skill"),
        ({"preference": "я" * 257}, "preference"),
        ({"preference": ["a"]}, "preference"),
        ({"k": 0}, "k"),
        ({"k": 21}, "k"),
        ({"k": "5"}, "k"),
        ({"session_id": "s" * 129}, "session_id"),
        ({"explore": "yes"}, "explore"),
        ({"extra": 1}, "extra"),
    ],
)
def test_recommendation_field_errors(refusing_server: Server, change: dict, field: str) -> None:
    response = refusing_server.client.post("/api/v1/recommendations", json=GOOD | change)
    assert response.status_code == 422
    assert _detail(response).startswith(f"{field}:")


def test_missing_fields_are_named(refusing_server: Server) -> None:
    response = refusing_server.client.post("/api/v1/recommendations", json={"preference": "x"})
    assert response.status_code == 422
    detail = _detail(response)
    assert "age: field required" in detail and "skill: field required" in detail


def test_unknown_skill_lists_the_allowed_ones(refusing_server: Server) -> None:
    response = refusing_server.client.post(
        "/api/v1/recommendations", json=GOOD | {"skill": "жонглёр"}
    )
    assert response.status_code == 422
    detail = _detail(response)
    assert detail.startswith("skill:") and "жонглёр" in detail
    assert all(skill in detail for skill in SkillVocabulary().skills)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"age": 30, "skill": ', "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b'{"age": NaN, "skill": "\xd0\xb0"}', "application/json"),
        (b'{"age": Infinity, "skill": "a"}', "application/json"),
        (b'{"age": 1e400, "skill": "a"}', "application/json"),
        (b'{"age": ' + b"9" * 5000 + b', "skill": "a"}', "application/json"),
        (b'{"age": 30, "skill": "\xff\xfe"}', "application/json"),
        (b'{"age": 30, "skill": "a", "preference": "\\ud800"}', "application/json"),
        (b"age=30&skill=a", "application/x-www-form-urlencoded"),
        (b'{"age": 30, "skill": "a"}', "text/plain"),
    ],
)
def test_malformed_bodies_are_422(
    refusing_server: Server, content: bytes, content_type: str
) -> None:
    response = refusing_server.client.post(
        "/api/v1/recommendations", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 422, response.text
    assert _detail(response)


def test_unknown_event_is_404(refusing_server: Server) -> None:
    response = _feedback(refusing_server, {"event_id": "no-such-event", "cum_reward": 1})
    assert response.status_code == 404 and _detail(response).startswith("event_id:")


def test_second_feedback_is_409_and_not_stored(server: Server) -> None:
    event = _event(server)
    assert _feedback(server, {"event_id": event["event_id"], "cum_reward": 1}).status_code == 200
    again = _feedback(server, {"event_id": event["event_id"], "cum_reward": -1})
    assert again.status_code == 409 and _detail(again).startswith("event_id:")
    with server.engine.connect() as conn:
        rows = conn.execute(
            select(feedback.c.cum_reward).where(feedback.c.event_id == event["event_id"])
        ).all()
    assert [r.cum_reward for r in rows] == [1]


def test_feedback_after_the_ttl_is_410(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(feedback_ttl_s=1)
    event = _event(server)
    time.sleep(1.2)
    response = _feedback(server, {"event_id": event["event_id"], "cum_reward": 1})
    assert response.status_code == 410 and _detail(response).startswith("event_id:")


def test_feedback_content_errors(server: Server) -> None:
    event = _event(server, k=2)
    eid = event["event_id"]
    shown = [item["id"] for item in event["items"]]
    assert len(shown) == 2
    other = next(
        i for i in ("000", "001", "100", "101", "200", "201", "002", "102", "202") if i not in shown
    )
    cases = [
        ({"votes": [{"vacancy_id": other, "vote": 1}]}, "votes"),
        ({"votes": [{"vacancy_id": shown[0], "vote": 2}]}, "votes.0.vote"),
        ({"votes": [{"vacancy_id": shown[0], "vote": 0}]}, "votes.0.vote"),
        ({"votes": [{"vacancy_id": shown[0], "vote": True}]}, "votes.0.vote"),
        ({"votes": [{"vacancy_id": shown[0], "vote": 1.0}]}, "votes.0.vote"),
        ({"votes": [{"vacancy_id": shown[0], "vote": 1}] * 2}, "votes"),
        ({"cum_reward": 3}, "cum_reward"),
        ({"cum_reward": -3}, "cum_reward"),
        ({"cum_reward": 10**40}, "cum_reward"),
        ({"cum_reward": 1.5}, "cum_reward"),
        ({"cum_reward": 1, "votes": [{"vacancy_id": shown[0], "vote": 1}]}, "body"),
        ({}, "body"),
        ({"votes": "+1"}, "votes"),
        ({"votes": []}, "votes"),  # would close the event with no rating at all
    ]
    for change, field in cases:
        response = _feedback(server, {"event_id": eid} | change)
        assert response.status_code == 422, (change, response.text)
        assert _detail(response).startswith(f"{field}:"), (change, response.text)
    # None of those was stored: the event still takes its one feedback.
    assert _feedback(server, {"event_id": eid, "cum_reward": 2}).status_code == 200
    with server.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(feedback)).scalar_one()
    assert count == 1


def test_unknown_routes_and_methods_are_json(refusing_server: Server) -> None:
    missing = refusing_server.client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and _detail(missing)
    wrong_method = refusing_server.client.get("/api/v1/feedback")
    assert wrong_method.status_code == 405 and _detail(wrong_method)


def test_oversized_bodies_are_413_declared_or_streamed(refusing_server: Server) -> None:
    huge = b'{"age": 30, "skill": "\xd0\xb0", "preference": "' + b"x" * 100_000 + b'"}'
    declared = refusing_server.client.post(
        "/api/v1/recommendations", content=huge, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["detail"].startswith("body")

    def chunks():  # no Content-Length: the body arrives chunked
        for start in range(0, len(huge), 8192):
            yield huge[start : start + 8192]

    streamed = refusing_server.client.post(
        "/api/write/", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["status_code"] == 413
    assert refusing_server.client.get("/healthz").status_code == 200
