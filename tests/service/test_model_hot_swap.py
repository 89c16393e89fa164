"""A model promoted while the server runs goes live within seconds, no request failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import torch
from sqlalchemy import Engine, update

from tests.service.conftest import INDUSTRIES, Server, catalog_rows, seed_catalog
from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel, exploration_probabilities
from vacrec.app.registry import promote, promote_prior, rollback, save_model
from vacrec.domain import SkillVocabulary
from vacrec.store.tables import models

SWAP_DEADLINE_S = 20  # generous on a loaded CI machine; the poll is every 0.2 s


def _register(engine: Engine, industries: Sequence[str], seed: int, live: bool = True) -> int:
    """Save a (randomly initialised) model that knows ``industries`` and promote it."""
    torch.manual_seed(seed)
    skills = SkillVocabulary().skills
    model = QModel(ContextualQNetwork(len(skills), len(industries)), skills, industries)
    with engine.begin() as conn:
        version = save_model(conn, model, ModelMeta())
        if live:
            promote(conn, version, reason="test")
    return version


def _wait_for(server: Server, predicate) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + SWAP_DEADLINE_S
    while True:
        model = server.client.get("/api/v1/model").json()
        if predicate(model):
            return model
        assert time.monotonic() < deadline, f"model never changed: {model}"
        time.sleep(0.05)


class _Traffic:
    """Recommendations sent back to back from another thread, recording every status."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.statuses: list[int] = []
        self.versions: list[int | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            while not self._stop.is_set():
                response = client.post(
                    "/api/v1/recommendations", json={"age": 35, "skill": "геймдев"}
                )
                self.statuses.append(response.status_code)
                if response.status_code == 200:
                    self.versions.append(response.json()["model_version"])

    def __enter__(self) -> _Traffic:
        self._thread.start()
        while not self.statuses and self._thread.is_alive():  # traffic is flowing before we swap
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_promoted_model_goes_live_without_failed_requests(server: Server) -> None:
    actions = sorted(INDUSTRIES)
    assert server.client.get("/api/v1/model").json()["version"] is None
    with _Traffic(server) as traffic:
        first = _register(server.engine, actions, seed=1)
        _wait_for(server, lambda m: m["version"] == first)
        second = _register(server.engine, actions, seed=2)
        _wait_for(server, lambda m: m["version"] == second)
        time.sleep(0.3)  # a few more requests on the new model
    assert traffic.statuses and set(traffic.statuses) == {200}
    assert traffic.versions[0] is None and traffic.versions[-1] == second
    seen = [v for i, v in enumerate(traffic.versions) if i == 0 or v != traffic.versions[i - 1]]
    assert seen in ([None, first, second], [None, second])  # only ever forward, never back

    greedy = server.client.post(
        "/api/v1/recommendations", json={"age": 35, "skill": "геймдев", "explore": False}
    ).json()
    q = [entry["q"] for entry in greedy["explanation"]["q_values"]]
    assert [entry["industry"] for entry in greedy["explanation"]["q_values"]] == actions
    assert greedy["model_version"] == second and greedy["propensity"] == 1.0
    assert greedy["action"]["index"] == int(np.argmax(q))

    explored = server.client.post(
        "/api/v1/recommendations", json={"age": 35, "skill": "геймдев"}
    ).json()
    eps, action = server.settings.epsilon, explored["action"]["index"]
    # No words typed: no industry is related to them (the skill's words do not count, see
    # agent.policy.related_to_words), so exploration spreads evenly.
    assert any(row["match"] > 0 for row in explored["explanation"]["industries"])
    spread = exploration_probabilities(len(actions), np.zeros(len(actions), dtype=bool))
    expected = (1 - eps if action == int(np.argmax(q)) else 0.0) + eps * spread[action]
    assert abs(explored["propensity"] - expected) < 1e-9


def test_refused_model_keeps_the_previous_one(server: Server) -> None:
    actions = sorted(INDUSTRIES)
    good = _register(server.engine, actions, seed=3)
    _wait_for(server, lambda m: m["version"] == good)
    bad = _register(server.engine, actions, seed=4, live=False)
    with server.engine.begin() as conn:  # a model of the old [age, skill] encoding
        meta = conn.execute(models.select().where(models.c.version == bad)).one().meta
        conn.execute(
            update(models)
            .where(models.c.version == bad)
            .values(meta={**meta, "encoding_version": 1})
        )
        promote(conn, bad, reason="test")
    model = _wait_for(server, lambda m: m["refused"] is not None)
    assert model["version"] == good and model["refused"]["version"] == bad
    assert "encoding version 1" in model["refused"]["reason"]
    response = server.client.post("/api/v1/recommendations", json={"age": 20, "skill": "геймдев"})
    assert response.status_code == 200 and response.json()["model_version"] == good


def test_a_new_industry_is_scored_from_its_content_by_the_live_model(
    server: Server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    old = _register(server.engine, sorted(INDUSTRIES), seed=5)
    _wait_for(server, lambda m: m["version"] == old)

    new_industry = "Строительство, недвижимость"
    extra = catalog_rows()[0] | {
        "id": "900",
        "name": "Художник-монументалист",
        "description": "Роспись стен в новостройках, мозаика на фасадах жилых комплексов.",
        "industries": [new_industry],
    }
    seed_catalog(server.engine, tmp_path, [extra])
    deadline = time.monotonic() + SWAP_DEADLINE_S
    request = {"age": 30, "skill": "реставрация", "preference": "мозаика фасады новостройки"}
    while True:
        body = server.client.post(
            "/api/v1/recommendations", json=request | {"explore": False}
        ).json()
        if len(body["explanation"]["industries"]) == 4:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.05)
    # The model that never saw the group still serves (no refusal, no uniform fallback)...
    assert body["model_version"] == old and body["propensity"] == 1.0
    assert server.client.get("/api/v1/model").json()["refused"] is None
    scores = {row["industry"]: row for row in body["explanation"]["industries"]}
    # ...and scores the new group from its content: its postings match these words best.
    assert scores[new_industry]["match"] > max(scores[name]["match"] for name in INDUSTRIES)
    assert all(np.isfinite(row["score"]) for row in scores.values())


def test_promoting_the_prior_returns_a_running_server_to_it_without_failed_requests(
    server: Server,
) -> None:
    actions = sorted(INDUSTRIES)
    with _Traffic(server) as traffic:
        version = _register(server.engine, actions, seed=1)
        _wait_for(server, lambda m: m["version"] == version)
        with server.engine.begin() as conn:
            promote_prior(conn, "operator: back to the words")
        prior = _wait_for(server, lambda m: m["version"] is None)
        assert prior["policy"] == "content prior"
        with server.engine.begin() as conn:
            assert rollback(conn) == version
        back = _wait_for(server, lambda m: m["version"] == version)
        assert back["policy"] == "model"
    assert traffic.statuses and set(traffic.statuses) == {200}
