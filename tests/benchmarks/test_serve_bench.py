"""`vacrec bench serve --model`: the benchmark's store serves a model, not the content prior."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine

from vacrec.agent.network import DEFAULT_EMBEDDING, DEFAULT_HIDDEN
from vacrec.app.registry import load_live_model
from vacrec.benchmarks.serve import _promote_a_model
from vacrec.domain import SkillVocabulary


def test_the_promoted_model_is_live_knows_every_skill_and_action_and_has_the_trained_size(
    sqlite_engine: Engine,
) -> None:
    actions = ("Дизайн", "Искусство", "Маркетинг")
    _promote_a_model(sqlite_engine, actions)

    with sqlite_engine.connect() as conn:
        live = load_live_model(conn)

    assert live is not None and live.version is not None
    assert live.industries == actions
    assert live.skills == SkillVocabulary().skills
    assert live.network.hidden == DEFAULT_HIDDEN
    assert live.network.embedding_dim == DEFAULT_EMBEDDING
    # Known skills and industries get their own embeddings, not the "unknown" row 0.
    assert (live.skill_ids(list(live.skills)) > 0).all()
    assert np.all(live.industry_ids(list(actions)) > 0)
