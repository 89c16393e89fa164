"""The service layer in process, as ``vacrec simulate`` uses it (no HTTP, no threads)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from sqlalchemy import Engine, select

from tests.service.conftest import ARTS, INDUSTRIES, IT, seed_catalog
from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel, exploration_probabilities, related_industries
from vacrec.app.ingest import ensure_catalog
from vacrec.app.recommender import Recommender
from vacrec.app.registry import promote, save_model
from vacrec.config import Settings
from vacrec.domain import SkillVocabulary
from vacrec.errors import InvalidRequest, ServiceUnavailable, UnknownEvent
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
    # No model: the content prior is greedy, explored ε of the time like any policy, mostly
    # among the industries the words match (here the arts only).
    assert rec.model_version is None and rec.q_values is None
    related = related_industries(np.array([s.match for s in rec.scores]))
    spread = exploration_probabilities(3, related)
    assert related.tolist() == [s.industry == ARTS for s in rec.scores]
    expected = (0.8 if rec.industry == ARTS else 0.0) + 0.2 * spread[rec.action]
    assert math.isclose(rec.propensity, expected)
    assert [item.id for item in rec.items] == [item.card.id for item in rec.items]
    with engine.connect() as conn:
        assert conn.execute(
            select(events.c.source).where(events.c.id == rec.event_id)
        ).scalar() == ("sim")
    reward = recommender.feedback(rec.event_id, votes=[(rec.items[0].id, 1)])
    assert math.isclose(reward, math.tanh(1))
    with pytest.raises(UnknownEvent):
        recommender.feedback("missing", cum_reward=0)
    with pytest.raises(InvalidRequest, match=r"^votes"):
        recommender.feedback(rec.event_id, votes=[])
    with pytest.raises(InvalidRequest, match=r"^age"):
        recommender.recommend(200, "акварель", "")
    with pytest.raises(InvalidRequest, match=r"^k"):
        recommender.recommend(30, "акварель", "", k=0)

    actions = sorted(INDUSTRIES)
    skills = SkillVocabulary().skills
    torch.manual_seed(0)
    model = QModel(ContextualQNetwork(len(skills), len(actions)), skills, actions)
    with engine.begin() as conn:
        version = save_model(conn, model, ModelMeta())
        promote(conn, version, reason="test")
    assert recommender.refresh() is True and recommender.refresh() is False
    greedy = recommender.recommend(30, "акварель", "", explore=False)
    assert greedy.model_version == version and greedy.propensity == 1.0
    assert greedy.q_values is not None and list(greedy.q_values) == actions
    assert greedy.industry == max(greedy.q_values, key=greedy.q_values.__getitem__)


def test_an_event_keeps_the_place_its_fields_gave_for_training(
    engine: Engine, tmp_path: Path
) -> None:
    seed_catalog(engine, tmp_path)
    recommender = Recommender.from_store(engine, _settings(tmp_path), seed=7)
    given = recommender.recommend(30, "акварель", "живопись", area="МОСКВЕ", work_format="office")
    said = recommender.recommend(30, "акварель", "живопись в Москве удалённо")
    with engine.connect() as conn:
        rows = {
            row.id: (row.area, row.work_format)
            for row in conn.execute(
                select(events.c.id, events.c.area, events.c.work_format).where(
                    events.c.id.in_([given.event_id, said.event_id])
                )
            )
        }
    assert rows[given.event_id] == ("Москва", "office")  # as the catalog spells it
    assert rows[said.event_id] == (None, None)  # the words are in the preference


def test_the_content_prior_serves_the_industry_matching_the_words(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    seed_catalog(sqlite_engine, tmp_path)
    recommender = Recommender.from_store(sqlite_engine, _settings(tmp_path), seed=1)

    painting = recommender.recommend(30, "геймдев", "акварель и живопись", explore=False)
    games = recommender.recommend(30, "акварель", "персонажи для игр на unity", explore=False)

    assert painting.industry == ARTS and games.industry == IT  # the words beat the skill
    assert painting.propensity == 1.0 and painting.model_version is None
    scores = {s.industry: s for s in games.scores}
    assert scores[IT].match == max(s.match for s in games.scores) > 0.0
    assert all(s.learned is None for s in games.scores)
    assert all(item.matched for item in games.items[:1])


@pytest.mark.parametrize(
    ("skill", "preference"),
    [
        ("геймдев", "рисование персонажей для мобильных игр, удалённо"),
        ("геймдев", "персонажи и локации для игр"),
        ("3D-моделирование", "3D художник для игр"),
    ],
)
def test_a_game_artist_gets_games_it_or_media_from_the_first_request(
    sqlite_engine: Engine, tmp_path: Path, skill: str, preference: str
) -> None:
    """The demo catalog, no feedback: what a new user sees on the first request."""
    ensure_catalog(sqlite_engine)
    recommender = Recommender.from_store(sqlite_engine, _settings(tmp_path), seed=1)

    rec = recommender.recommend(27, skill, preference, explore=False)

    assert rec.industry in {IT, ARTS}
    assert sum(item.matched for item in rec.items) >= 3
    assert any("игр" in item.card.name.lower() for item in rec.items)


def test_a_model_giving_nan_q_values_is_replaced_by_the_content_prior(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    seed_catalog(sqlite_engine, tmp_path)
    skills = SkillVocabulary().skills
    network = ContextualQNetwork(len(skills), len(INDUSTRIES))
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.fill_(float("nan"))
    model = QModel(network, skills, sorted(INDUSTRIES))
    with sqlite_engine.begin() as conn:
        version = save_model(conn, model, ModelMeta())
        promote(conn, version, reason="test")
    recommender = Recommender.from_store(sqlite_engine, _settings(tmp_path), seed=1)
    assert recommender.models.current is not None
    rec = recommender.recommend(30, "акварель", "живопись", explore=False)
    assert rec.q_values is None and rec.model_version is None
    assert rec.industry == ARTS and rec.propensity == 1.0
