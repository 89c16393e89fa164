"""The service layer in process, as ``vacrec simulate`` uses it (no HTTP, no threads)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from sqlalchemy import Engine, select

from tests.service.conftest import INDUSTRIES, seed_catalog
from vacrec.agent.encoding import state_size
from vacrec.agent.network import QNetwork
from vacrec.agent.registry import promote, save_model
from vacrec.agent.skills import skill_vocabulary
from vacrec.config import Settings
from vacrec.service.errors import InvalidRequest, ServiceUnavailable, UnknownEvent
from vacrec.service.recommender import Recommender
from vacrec.store.tables import events


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", epsilon=0.2)


def test_empty_catalog_is_unavailable(engine: Engine, tmp_path: Path) -> None:
    recommender = Recommender.from_store(engine, _settings(tmp_path))
    with pytest.raises(ServiceUnavailable):
        recommender.recommend(30, "акварель", "")


def test_recommend_feedback_and_model_refresh(engine: Engine, tmp_path: Path) -> None:
    seed_catalog(engine, tmp_path)
    recommender = Recommender.from_store(engine, _settings(tmp_path), seed=7)
    rec = recommender.recommend(30, "акварель", "живопись", k=2, session_id="s", source="sim")
    assert rec.model_version is None and math.isclose(rec.propensity, 1 / 3)
    assert [item.id for item in rec.items] == [item.card.id for item in rec.items]
    with engine.connect() as conn:
        assert conn.execute(
            select(events.c.source).where(events.c.id == rec.event_id)
        ).scalar() == ("sim")
    reward = recommender.feedback(rec.event_id, votes=[(rec.items[0].id, 1)])
    assert math.isclose(reward, math.tanh(1))
    with pytest.raises(UnknownEvent):
        recommender.feedback("missing", cum_reward=0)
    with pytest.raises(InvalidRequest, match=r"^age"):
        recommender.recommend(200, "акварель", "")
    with pytest.raises(InvalidRequest, match=r"^k"):
        recommender.recommend(30, "акварель", "", k=0)

    actions = sorted(INDUSTRIES)
    skills = skill_vocabulary()
    torch.manual_seed(0)
    with engine.begin() as conn:
        version = save_model(
            conn,
            QNetwork(state_size(len(skills)), len(actions)),
            {"actions": actions, "skills": list(skills)},
        )
        promote(conn, version, reason="test")
    assert recommender.refresh() is True and recommender.refresh() is False
    greedy = recommender.recommend(30, "акварель", "", explore=False)
    assert greedy.model_version == version and greedy.propensity == 1.0
    assert greedy.q_values is not None and list(greedy.q_values) == actions
    assert greedy.industry == max(greedy.q_values, key=greedy.q_values.__getitem__)


def test_a_model_giving_nan_q_values_is_served_as_uniform(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    seed_catalog(sqlite_engine, tmp_path)
    skills = skill_vocabulary()
    network = QNetwork(state_size(len(skills)), len(INDUSTRIES))
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.fill_(float("nan"))
    with sqlite_engine.begin() as conn:
        version = save_model(conn, network, {"actions": sorted(INDUSTRIES), "skills": list(skills)})
        promote(conn, version, reason="test")
    recommender = Recommender.from_store(sqlite_engine, _settings(tmp_path), seed=1)
    rec = recommender.recommend(30, "акварель", "", explore=False)
    assert rec.q_values is None
    assert rec.model_version is None
    assert math.isclose(rec.propensity, 1 / len(INDUSTRIES))
