"""bench train puts vacrec's learner beside its peers, trained on the same logged rows."""

from __future__ import annotations

import json
from functools import partial
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from vacrec.agent.trainer import TrainConfig
from vacrec.benchmarks import train as bench_train
from vacrec.benchmarks.train_plot import plot_learning_curves

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures() -> dict:
    """One small run: the demo catalog, one seed, budgets of 200 and 300 events."""
    patch = pytest.MonkeyPatch()
    # the speed section is not what this checks: keep it tiny
    patch.setattr(bench_train, "SPEED_UPDATES", 20)
    patch.setattr(bench_train, "SPEED_REPEATS", 1)
    patch.setattr(bench_train, "REFERENCE_SAMPLES", 20)
    patch.setattr(bench_train, "EVAL_USERS", 500)
    # the real trainer, with fewer updates: the figures' shape is checked, not their quality
    patch.setattr(bench_train, "TrainConfig", partial(TrainConfig, min_updates=100, epochs=20))
    demo = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    try:
        with resources.as_file(demo) as catalog:
            yield bench_train.run(Path(catalog), seeds=(0,), budgets=(200, 300))
    finally:
        patch.undo()


def test_every_learner_is_reported_per_population_and_budget(figures: dict) -> None:
    assert figures["budgets"] == [200, 300] and figures["seeds"] == [0]
    assert figures["peers_missing"] == {}
    assert set(figures["peers"]) == {"vw", "lightgbm"}
    for taste in bench_train.TASTES:
        for budget in ("200", "300"):
            row = figures["learners"][taste][budget]
            assert set(row) == set(bench_train.LEARNERS)
            for learner in ("vacrec", "vw", "lightgbm"):
                entry = row[learner]
                assert len(entry["gap_closed"]) == 1 and len(entry["train_seconds"]) == 1
                assert entry["gap_closed_mean"] == pytest.approx(entry["gap_closed"][0])
                assert -1.0 <= entry["gap_closed_mean"] <= 1.0
                assert entry["train_seconds_mean"] > 0
            assert "train_seconds" not in row["content_prior"]
            assert row["observable_oracle"]["gap_closed_mean"] > 0.5
    # the existing figures are still there, at the smallest budget
    assert figures["events"] == 200
    assert {r["taste"] for r in figures["runs"]} == set(bench_train.TASTES)
    assert all(r["transitions"] == 200 for r in figures["runs"])
    # vacrec's entry at that budget is the detailed run's training
    independent = next(r for r in figures["runs"] if r["taste"] == "independent")
    vacrec = figures["learners"]["independent"]["200"]["vacrec"]
    assert vacrec["gap_closed"][0] == pytest.approx(independent["gap_closed"], abs=1e-4)
    json.dumps(figures, allow_nan=False)  # no NaN or infinity anywhere


def test_the_learning_curve_draws_every_learner_of_both_populations(
    figures: dict, tmp_path: Path
) -> None:
    path = tmp_path / "curve.svg"
    drawn = plot_learning_curves(figures, path)
    for taste in bench_train.TASTES:
        for learner in bench_train.LEARNERS:
            assert [x for x, _ in drawn[f"{taste}: {learner}"]] == [200, 300]
    svg = path.read_text()
    assert svg.startswith("<?xml") and "Vowpal Wabbit" in svg and "LightGBM" in svg


def test_the_first_events_of_a_log_are_a_log_of_only_those_events() -> None:
    from tests.benchmarks.test_peers import _log

    log = _log(10, seed=0)
    log.next_state = np.asarray([1, 2, 3, 4, 5, 6, 7, 8, 9, -1])
    head = bench_train.first_events(log, 4)
    assert len(head) == 4
    assert head.next_state.tolist() == [1, 2, 3, -1]  # row 4 was never logged
