"""bench train's adaptive log: rounds served by the model the previous rounds trained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from vacrec.agent.context import content_match
from vacrec.agent.policy import exploration_probabilities, related_industries
from vacrec.app.ingest import ensure_catalog
from vacrec.app.registry import live_version, load_model
from vacrec.app.training import LogSelection, read_training_logs
from vacrec.benchmarks.train_adaptive import log_adaptively
from vacrec.config import Settings

TEMPERATURE = 0.1


def test_each_round_is_served_by_the_model_trained_on_the_rounds_before(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=str(sqlite_engine.url),
        epsilon=1.0,
        explore_temperature=TEMPERATURE,
        simulator_seed=3,
    )
    ensure_catalog(sqlite_engine)

    out = log_adaptively(sqlite_engine, settings, 320, 150, seed=3, taste="independent")

    rounds = out["rounds"]
    assert [r["events"] for r in rounds] == [150, 300, 320]
    assert rounds[0]["served_by"] is None  # the content prior opens
    trained = [r["trained_version"] for r in rounds[:-1]]
    assert [r["served_by"] for r in rounds[1:]] == trained  # each round by the newest model
    assert all(r["promoted"] for r in rounds[:-1]) and "trained_version" not in rounds[-1]
    with sqlite_engine.connect() as conn:
        assert live_version(conn) == trained[-1]
        second = load_model(conn, trained[0])

    _, _, log = read_training_logs(sqlite_engine, settings, LogSelection(simulated=True))
    assert len(log) == 320
    # Round two's propensities are what the first model's optimistic exploration gives (ε = 1:
    # every request explored). A session's request after a mostly rejected industry scores
    # that industry below the rest, so compare the first request of each session only.
    rows = np.arange(150, 300)
    contexts = log.contexts.take(log.state[rows])
    q, unsure = second.q_values(contexts), second.uncertainty(contexts)
    n_actions = len(contexts.actions)
    expected = np.array(
        [
            exploration_probabilities(
                n_actions,
                related_industries(content_match(contexts.content[j])),
                unsure[j],
                q[j],
                TEMPERATURE,
            )[log.actions[i]]
            for j, i in enumerate(rows)
        ]
    )
    first_of_session = ~np.isin(log.state[rows], log.next_state[rows])
    assert first_of_session.sum() > 60
    np.testing.assert_allclose(
        log.propensities[rows][first_of_session], expected[first_of_session], rtol=1e-5
    )
    # ...and not what the content prior's related-first spread would have given.
    prior = np.array(
        [
            exploration_probabilities(
                n_actions, related_industries(content_match(contexts.content[j]))
            )[log.actions[i]]
            for j, i in enumerate(rows)
        ]
    )
    assert np.abs(log.propensities[rows] - prior).max() > 0.05


def test_rounds_must_hold_events(sqlite_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=str(sqlite_engine.url))
    with pytest.raises(ValueError, match="at least 1"):
        log_adaptively(sqlite_engine, settings, 100, 0, seed=0, taste="independent")
