"""The original service's endpoints with its request shapes, now with real status codes."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from tests.service.conftest import Server, catalog_rows
from vacrec.domain import SkillVocabulary
from vacrec.store.tables import events, feedback

ROWS = {row["id"]: row for row in catalog_rows()}


def _legacy_error(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "details"} and body["status_code"] == status
    return body["details"]


def _recommend(server: Server, **params: object) -> dict:
    query = {"age": 25, "skill": "геймдев", "preference": "игры персонажи"} | params
    response = server.client.get("/api/recommend/", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status_code"] == 200 and set(body["details"]) == {
        "action",
        "event_id",
        "recommended",
    }
    return body["details"]


def test_recommend_in_the_original_shape(server: Server) -> None:
    details = _recommend(server)
    industries = [
        i["industry"] for i in server.client.get("/api/v1/industries").json()["industries"]
    ]
    assert 0 <= details["action"] < len(industries)
    assert 1 <= len(details["recommended"]) <= 5
    for card in details["recommended"]:
        assert set(card) == {"id", "name", "desc_full", "logo"}
        row = ROWS[card["id"]]
        assert card["desc_full"] == row["description"] and card["name"] == row["name"]
        assert row["industries"] == [industries[details["action"]]]
    with server.engine.connect() as conn:
        event = conn.execute(select(events).where(events.c.id == details["event_id"])).one()
    assert event.source == "legacy" and event.action == details["action"]
    assert event.shown == [card["id"] for card in details["recommended"]]


def test_write_without_event_is_stored_as_legacy(server: Server) -> None:
    body = {"cum_reward": 3, "age": 25, "skill": "геймдев", "action": 1}
    response = server.client.post("/api/write/", json=body)
    assert response.status_code == 200 and response.json() == {"status_code": 200}
    with server.engine.connect() as conn:
        row = conn.execute(select(feedback)).one()
    assert row.event_id is None and row.legacy is True
    assert (row.age, row.skill, row.action, row.cum_reward) == (25, "геймдев", 1, 3)
    assert math.isclose(row.reward, math.tanh(3))
    actions = [i["industry"] for i in server.client.get("/api/v1/industries").json()["industries"]]
    assert row.industry == actions[1]  # by name: the index shifts when a group is added


def details_industry(server: Server, action: int) -> str:
    """The industry the catalog's action list names ``action`` (as the legacy API speaks)."""
    industries = server.client.get("/api/v1/industries").json()["industries"]
    return industries[action]["industry"]


def test_write_with_event_ties_to_it_once(server: Server) -> None:
    details = _recommend(server)
    body = {
        "cum_reward": -1,
        "age": 25,
        "skill": "геймдев",
        "action": details["action"],
        "event_id": details["event_id"],
    }
    assert server.client.post("/api/write/", json=body).status_code == 200
    with server.engine.connect() as conn:
        row = conn.execute(select(feedback)).one()
    assert row.event_id == details["event_id"] and row.legacy is False and row.cum_reward == -1
    assert row.industry == details_industry(server, details["action"])
    assert "already" in _legacy_error(server.client.post("/api/write/", json=body), 409)


def test_write_with_event_must_match_it(server: Server) -> None:
    details = _recommend(server)
    body = {"cum_reward": 1, "age": 25, "skill": "геймдев", "event_id": details["event_id"]}
    wrong_action = (details["action"] + 1) % 3
    message = _legacy_error(
        server.client.post("/api/write/", json=body | {"action": wrong_action}), 422
    )
    assert message.startswith("action:")
    message = _legacy_error(
        server.client.post("/api/write/", json=body | {"action": details["action"], "age": 26}), 422
    )
    assert message.startswith("age:")
    too_many = body | {"action": details["action"], "cum_reward": len(details["recommended"]) + 1}
    assert _legacy_error(server.client.post("/api/write/", json=too_many), 422).startswith(
        "cum_reward:"
    )
    unknown = body | {"action": details["action"], "event_id": "nope"}
    assert _legacy_error(server.client.post("/api/write/", json=unknown), 404).startswith(
        "event_id:"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"age": 13}, "age"),
        ({"age": 101}, "age"),
        ({"age": "abc"}, "age"),
        ({"age": "1e400"}, "age"),
        ({"age": "9" * 5000}, "age"),
        ({"preference": "x" * 257}, "preference"),
        ({"skill": ""}, "skill"),
    ],
)
def test_recommend_invalid_query(refusing_server: Server, params: dict, field: str) -> None:
    query = {"age": 25, "skill": "геймдев", "preference": "игры"} | params
    message = _legacy_error(refusing_server.client.get("/api/recommend/", params=query), 422)
    assert message.startswith(f"{field}:")


def test_recommend_missing_and_unknown_skill(refusing_server: Server) -> None:
    message = _legacy_error(
        refusing_server.client.get("/api/recommend/", params={"skill": "геймдев"}), 422
    )
    assert message.startswith("age:")
    message = _legacy_error(
        refusing_server.client.get("/api/recommend/", params={"age": 30, "skill": "python"}), 422
    )
    assert message.startswith("skill:") and all(s in message for s in SkillVocabulary().skills)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cum_reward": 6}, "cum_reward"),
        ({"cum_reward": -6}, "cum_reward"),
        ({"cum_reward": "1"}, "cum_reward"),
        ({"action": 3}, "action"),
        ({"action": -1}, "action"),
        ({"action": 10**30}, "action"),
        ({"age": 5}, "age"),
        ({"skill": "жонглёр"}, "skill"),
        ({"event_id": ""}, "event_id"),
    ],
)
def test_write_invalid(refusing_server: Server, body: dict, field: str) -> None:
    full = {"cum_reward": 1, "age": 25, "skill": "геймдев", "action": 0} | body
    message = _legacy_error(refusing_server.client.post("/api/write/", json=full), 422)
    assert message.startswith(f"{field}:")


def test_write_malformed_json_in_legacy_envelope(refusing_server: Server) -> None:
    response = refusing_server.client.post(
        "/api/write/", content=b"{cum_reward: 1", headers={"content-type": "application/json"}
    )
    assert _legacy_error(response, 422).startswith("body:")
    missing = refusing_server.client.post("/api/write/", json={"age": 25})
    message = _legacy_error(missing, 422)
    assert all(f"{f}: field required" in message for f in ("cum_reward", "skill", "action"))


def test_write_without_event_is_tied_to_the_request_it_answers(server: Server) -> None:
    """The original client sends no event id; its write belongs to the GET just before."""
    details = _recommend(server, age=31)
    write = {"cum_reward": 2, "age": 31, "skill": "геймдев", "action": details["action"]}
    other_action = (details["action"] + 1) % 3

    assert server.client.post("/api/write/", json=write).status_code == 200
    assert server.client.post("/api/write/", json=write).status_code == 200  # event now rated
    assert (
        server.client.post("/api/write/", json=write | {"action": other_action}).status_code == 200
    )
    with server.engine.connect() as conn:
        rows = conn.execute(select(feedback).order_by(feedback.c.id)).all()
    linked, again, elsewhere = rows
    assert linked.event_id == details["event_id"] and linked.legacy is False
    assert linked.cum_reward == 2
    assert again.event_id is None and again.legacy is True  # one event, one reward
    assert elsewhere.event_id is None and elsewhere.legacy is True  # another action: no match
