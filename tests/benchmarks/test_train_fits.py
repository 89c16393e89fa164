"""bench train --fits: every learner trained several times per log, reported by the mean."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tests.benchmarks.test_peers import _contexts, _log
from vacrec.agent.trainer import TrainConfig, train
from vacrec.benchmarks import peers
from vacrec.benchmarks import train as bench_train

FRESH = _contexts(100, np.random.default_rng(7))


def _score(policy: Any) -> SimpleNamespace:
    """A stand-in for the simulator's value: deterministic in the policy's scores, so two
    fits score alike only when they learned alike."""
    return SimpleNamespace(gap_closed=float(np.asarray(policy.q_values(FRESH)).mean()))


def test_every_learner_is_fitted_with_each_trainer_seed_and_reported_by_the_mean() -> None:
    fits, missing = peers.load_peers()
    assert not missing, missing
    log = _log(400, seed=3)
    first = train(log, TrainConfig(seed=5))
    out = bench_train._learners(log, _score, 5, fits, lambda _m: None, "t", (first, 1.0), 3)

    assert set(out) == {"vacrec", *fits}
    for entry in out.values():
        assert len(entry["gap_closed_fits"]) == 3
        assert entry["gap_closed"] == pytest.approx(np.mean(entry["gap_closed_fits"]), abs=1e-4)
        assert entry["train_seconds"] > 0
    vacrec = out["vacrec"]["gap_closed_fits"]
    assert vacrec[0] == pytest.approx(_score(first.model).gap_closed, abs=1e-4)  # reused
    again = train(log, TrainConfig(seed=5 + bench_train.FIT_SEED_STEP))
    assert vacrec[1] == pytest.approx(_score(again.model).gap_closed, abs=1e-4)  # seed S + 100
    assert len(set(vacrec)) == 3  # three trainer seeds, three different fits


def test_one_fit_is_the_single_training_it_always_was() -> None:
    log = _log(300, seed=4)
    out = bench_train._learners(log, _score, 2, {}, lambda _m: None, "t")
    alone = train(log, TrainConfig(seed=2))
    assert out["vacrec"]["gap_closed_fits"] == [round(out["vacrec"]["gap_closed"], 4)]
    assert out["vacrec"]["gap_closed"] == pytest.approx(_score(alone.model).gap_closed, abs=1e-4)
