"""The runner drives the real service layer; simulated events land in the store like real ones."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from vacrec.agent.skills import skill_vocabulary
from vacrec.agent.transitions import load_transitions
from vacrec.config import Settings
from vacrec.ranking.snapshot import SnapshotHolder
from vacrec.service.model_holder import ModelHolder
from vacrec.service.recommender import Recommender
from vacrec.simulate.runner import env_from_catalog, run_simulation
from vacrec.store.catalog import catalog_industries
from vacrec.store.ingest import ingest_paths
from vacrec.store.tables import events, feedback


def _demo_catalog(engine: Engine) -> None:
    demo = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    with resources.as_file(demo) as path:
        ingest_paths(engine, [path], source="test")


@pytest.fixture
def service(sqlite_engine: Engine, settings: Settings) -> Recommender:
    _demo_catalog(sqlite_engine)
    settings = settings.model_copy(update={"epsilon": 1.0})
    snapshots = SnapshotHolder(sqlite_engine, settings.catalog_poll_s)
    models = ModelHolder(sqlite_engine, settings, settings.model_poll_s)
    models.refresh_if_changed()
    return Recommender(sqlite_engine, settings, snapshots, models, seed=0)


def test_simulated_users_leave_events_and_feedback_in_the_store(
    service: Recommender, sqlite_engine: Engine
):
    skills = skill_vocabulary()
    with sqlite_engine.connect() as conn:
        env = env_from_catalog(conn, skills, seed=0)
        n_actions = len(catalog_industries(conn))
    summary = run_simulation(service, env, events=120, seed=5)
    assert summary.events == 120 and summary.users < 120 and summary.sessions > 0
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(events.c.session_id, events.c.propensity, events.c.source)).all()
        rewards = conn.execute(select(feedback.c.reward)).scalars().all()
        per_session = (
            conn.execute(
                select(func.count())
                .select_from(events)
                .where(events.c.session_id.is_not(None))
                .group_by(events.c.session_id)
            )
            .scalars()
            .all()
        )
        t = load_transitions(conn, env.industries, skills)
    assert len(rows) == 120 and len(rewards) == 120
    assert {r.source for r in rows} == {"simulator"}
    assert [r.propensity for r in rows] == pytest.approx([1 / n_actions] * 120)  # ε = 1
    assert set(per_session) <= {2, 3}
    assert np.mean(rewards) == pytest.approx(summary.mean_reward)
    # multi-request sessions give non-terminal transitions
    assert len(t) == 120 and 0 < (~t.dones).sum() < 120
