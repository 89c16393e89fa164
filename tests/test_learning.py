"""The learning loop's shared steps: demo catalog, model bootstrap, retraining."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select

from vacrec.agent.registry import live_version, load_live_model
from vacrec.agent.skills import skill_vocabulary
from vacrec.config import Settings
from vacrec.learning import ensure_catalog, ensure_model
from vacrec.simulate.runner import env_from_catalog
from vacrec.store.catalog import catalog_industries
from vacrec.store.tables import events


def test_bootstrap_promotes_a_model_that_beats_random_on_the_simulator(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, database_url=str(sqlite_engine.url))
    ensure_catalog(sqlite_engine)
    version = ensure_model(sqlite_engine, settings, events=1500)
    assert version is not None

    skills = skill_vocabulary()
    with sqlite_engine.connect() as conn:
        assert live_version(conn) == version
        model = load_live_model(conn, catalog_industries(conn), skills)
        env = env_from_catalog(conn, skills, settings.simulator_seed)
        sources = set(conn.execute(select(events.c.source).distinct()).scalars())
        logged = conn.execute(select(func.count()).select_from(events)).scalar_one()
    assert model is not None
    assert sources == {"bootstrap"}
    assert logged == 1500

    greedy, random = [], []
    for age in (18, 30, 45, 60):
        for skill_idx, skill in enumerate(skills):
            expected = env.expected_rewards(np.array([age]), np.array([skill_idx]))[0]
            greedy.append(expected[int(model.q_values(age, skill).argmax())])
            random.append(float(expected.mean()))
    assert sum(greedy) / len(greedy) > sum(random) / len(random) + 0.5

    assert ensure_model(sqlite_engine, settings, events=10) is None  # a model exists already
