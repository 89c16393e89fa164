"""The v1 API over a real server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import jsonschema_rs
from sqlalchemy import select

from tests.service.conftest import INDUSTRIES, Server, catalog_rows
from vacrec.agent.policy import ANY_INDUSTRY_SHARE
from vacrec.domain import SkillVocabulary
from vacrec.ranking.index import MATCH_THRESHOLD
from vacrec.store.tables import events, feedback

ROWS = {row["id"]: row for row in catalog_rows()}


def _recommend(server: Server, **body: object) -> dict:
    payload = {"age": 30, "skill": "акварель", "preference": "акварель"} | body
    response = server.client.post("/api/v1/recommendations", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def _recommend_in(server: Server, industry: str, **body: object) -> dict:
    """Ask until the wanted industry comes up: greedy first, then as ε explores it."""
    result = _recommend(server, **body, explore=False)
    for _ in range(400):
        if result["action"]["industry"] == industry:
            return result
        result = _recommend(server, **body)
    raise AssertionError(f"{industry} was never served in 400 draws")


def test_recommendation_is_stored_as_an_event(server: Server) -> None:
    result = _recommend(server, age=41, preference="театр", session_id="s-1", k=3)
    actions = [i["industry"] for i in server.client.get("/api/v1/industries").json()["industries"]]
    assert actions[result["action"]["index"]] == result["action"]["industry"]
    assert result["model_version"] is None and result["explanation"]["q_values"] is None
    assert result["explanation"]["policy"] == "content prior"
    # «театр» and the skill's words match arts postings only: the prior's choice, and where
    # exploration goes but for its small share that may go to any industry.
    eps, share = server.settings.epsilon, ANY_INDUSTRY_SHARE
    explored = {True: (1 - share) + share / 3, False: share / 3}
    greedy = result["action"]["industry"] == INDUSTRIES[0]
    expected = (1 - eps if greedy else 0.0) + eps * explored[greedy]
    assert math.isclose(result["propensity"], expected)
    assert 1 <= len(result["items"]) <= 3
    for item in result["items"]:
        assert ROWS[item["id"]]["industries"] == [result["action"]["industry"]]
        assert set(item) == {
            *("id", "name", "company", "salary", "url", "logo", "snippet", "score", "matched"),
            "matched_words",
            *("area", "schedule", "experience", "published_at", "place_match", "also_in"),
            "snippet_parts",
        }
        assert item["area"] == "Москва" and item["published_at"].startswith("2024-0")
        assert item["matched"] == (item["score"] >= MATCH_THRESHOLD)
        # a card sharing «театр» names it; a filler card names nothing
        assert item["matched_words"] == (["театр"] if item["score"] > 0 else [])
    assert len(result["event_id"]) >= 22  # token_urlsafe(16): 128 random bits

    with server.engine.connect() as conn:
        row = conn.execute(select(events).where(events.c.id == result["event_id"])).one()
    assert (row.age, row.skill, row.preference, row.session_id) == (41, "акварель", "театр", "s-1")
    assert (row.action, row.industry) == (result["action"]["index"], result["action"]["industry"])
    assert row.shown == [item["id"] for item in result["items"]]
    assert row.source == "api" and row.explore is True and row.model_version is None
    assert row.catalog_version == server.client.get("/api/v1/industries").json()["catalog_version"]


def test_event_ids_differ(server: Server) -> None:
    ids = {_recommend(server)["event_id"] for _ in range(5)}
    assert len(ids) == 5


def test_preference_ranks_matching_vacancy_first(server: Server) -> None:
    result = _recommend_in(server, INDUSTRIES[0], preference="Акварель, живопись", k=4)
    assert result["fallback"] is False
    top = result["items"][0]
    assert "акварель" in ROWS[top["id"]]["description"] and top["score"] > 0
    assert top["score"] >= max(item["score"] for item in result["items"])


def test_preference_without_known_terms_falls_back(server: Server) -> None:
    result = _recommend(server, preference="qwertyzzz", k=20)
    assert result["fallback"] is True
    assert all(item["score"] == 0 for item in result["items"])
    assert len(result["items"]) == 4  # every vacancy of the industry, k is only an upper bound


def test_preference_any_unicode_and_empty(server: Server) -> None:
    assert _recommend(server, preference="")["items"]
    long_text = "🎨é" * 128  # 256 characters, 640 bytes
    assert _recommend(server, preference=long_text)["items"]
    result = _recommend(server, preference="акварель\x00 живопись")
    with server.engine.connect() as conn:
        stored = conn.execute(
            select(events.c.preference).where(events.c.id == result["event_id"])
        ).scalar_one()
    assert stored == "акварель живопись"


def test_skill_is_case_insensitive_and_stored_canonically(server: Server) -> None:
    result = _recommend(server, skill="  АКВАРЕЛЬ ")
    with server.engine.connect() as conn:
        skill = conn.execute(
            select(events.c.skill).where(events.c.id == result["event_id"])
        ).scalar_one()
    assert skill == "акварель"


def test_feedback_votes_store_tanh_of_the_sum(server: Server) -> None:
    result = _recommend(server, k=3)
    shown = [item["id"] for item in result["items"]]
    votes = [{"vacancy_id": v, "vote": 1 if i else -1} for i, v in enumerate(shown)]
    response = server.client.post(
        "/api/v1/feedback", json={"event_id": result["event_id"], "votes": votes}
    )
    assert response.status_code == 200, response.text
    total = sum(v["vote"] for v in votes)
    assert math.isclose(response.json()["reward"], math.tanh(total))
    with server.engine.connect() as conn:
        row = conn.execute(select(feedback).where(feedback.c.event_id == result["event_id"])).one()
    assert row.cum_reward == total and row.legacy is False
    assert row.action == result["action"]["index"] and row.age == 30
    assert row.votes == votes


def test_feedback_cum_reward_and_partial_votes(server: Server) -> None:
    first = _recommend(server, k=2)
    response = server.client.post(
        "/api/v1/feedback", json={"event_id": first["event_id"], "cum_reward": -2}
    )
    assert response.status_code == 200 and math.isclose(response.json()["reward"], math.tanh(-2))

    second = _recommend(server, k=3)
    one = second["items"][0]["id"]
    response = server.client.post(
        "/api/v1/feedback",
        json={"event_id": second["event_id"], "votes": [{"vacancy_id": one, "vote": 1}]},
    )
    assert response.status_code == 200 and math.isclose(response.json()["reward"], math.tanh(1))


def test_skills_industries_model(server: Server) -> None:
    skills = server.client.get("/api/v1/skills").json()["skills"]
    assert skills == list(SkillVocabulary().skills)
    industries = server.client.get("/api/v1/industries").json()
    assert [i["industry"] for i in industries["industries"]] == sorted(INDUSTRIES)
    assert [i["index"] for i in industries["industries"]] == [0, 1, 2]
    model = server.client.get("/api/v1/model").json()
    assert model["version"] is None and model["refused"] is None
    assert model["actions"] == sorted(INDUSTRIES) and model["epsilon"] == 0.1


def test_extra_skills_from_settings_are_accepted(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(extra_skills=["пиксель-арт"])
    assert server.client.get("/api/v1/skills").json()["skills"][-1] == "пиксель-арт"
    assert _recommend(server, skill="пиксель-арт")["items"]


def test_openapi_documents_both_generations(server: Server) -> None:
    assert server.client.get("/docs").status_code == 200
    paths = server.client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/recommend/",
        "/api/write/",
        "/api/v1/recommendations",
        "/api/v1/feedback",
        "/api/v1/skills",
        "/api/v1/industries",
        "/api/v1/model",
    ):
        assert path in paths


def _schema_accepts(document: dict, component: str, body: object) -> bool:  # type: ignore[type-arg]
    root = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return bool(jsonschema_rs.Draft202012Validator(root).is_valid(body))


def test_openapi_lists_this_servers_skills_wherever_a_skill_is_asked(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(extra_skills=["пиксель-арт"])
    skills = server.client.get("/api/v1/skills").json()["skills"]
    document = server.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    legacy_query = document["paths"]["/api/recommend/"]["get"]["parameters"]

    assert schemas["RecommendationRequest"]["properties"]["skill"]["enum"] == skills
    assert schemas["LegacyWriteRequest"]["properties"]["skill"]["enum"] == skills
    assert next(p for p in legacy_query if p["name"] == "skill")["schema"]["enum"] == skills
    assert "пиксель-арт" in skills and "x-vacrec-skills" not in str(document)


def test_openapi_says_exactly_one_of_votes_or_cum_reward(server: Server) -> None:
    """For each body the schema's verdict is the server's: accepted, or a 422 naming why."""
    document = server.client.get("/openapi.json").json()
    assert "oneOf" in document["components"]["schemas"]["FeedbackRequest"]
    cases = [
        ({"votes": [{"vacancy_id": "?", "vote": 1}]}, True),
        ({"cum_reward": 1}, True),
        ({"votes": None, "cum_reward": -1}, True),  # null counts as absent
        ({"votes": [{"vacancy_id": "?", "vote": 1}], "cum_reward": 1}, False),
        ({}, False),
        ({"votes": None, "cum_reward": None}, False),
    ]
    for extra, valid in cases:
        rec = _recommend(server)
        body = {"event_id": rec["event_id"], **extra}
        for vote in body.get("votes") or []:
            vote["vacancy_id"] = rec["items"][0]["id"]
        answer = server.client.post("/api/v1/feedback", json=body)

        assert _schema_accepts(document, "FeedbackRequest", body) is valid, body
        assert answer.status_code == (200 if valid else 422), (body, answer.text)
        if not valid:
            assert "exactly one of 'votes' or 'cum_reward'" in answer.json()["detail"]
