"""A LightGBM direct method as a peer of vacrec's learner.

Regress the logged reward on one row per logged request: [age, skill, industry taken, that
industry's content feature row] — the columns of vacrec's context, skill and industry as
categorical features. The greedy policy predicts the reward of every industry for a seeker and
takes the best (the "direct method" of off-policy learning: no propensities needed, only a
model of the reward).

Settings (:data:`PARAMS`, also in the README's training benchmark): L2 regression, learning
rate 0.05, 31 leaves, at most :data:`MAX_ROUNDS` rounds stopped early when the L2 loss on a
seeded :data:`VALIDATION_SHARE` of the rows has not improved for :data:`PATIENCE` rounds (the
same share vacrec's trainer holds out); one thread, like vacrec's trainer.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from vacrec.agent.context import Contexts
from vacrec.agent.transitions import Transitions
from vacrec.benchmarks.peers import PeerFit, PeerPolicy, content_names, timed

PARAMS: dict[str, float | int | str] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "num_threads": 1,
    "verbosity": -1,
}
MAX_ROUNDS = 2_000
PATIENCE = 50
VALIDATION_SHARE = 0.1


class _Columns:
    """Skill and industry codes fixed at fit time (unknown later → a code of its own)."""

    def __init__(self, contexts: Contexts) -> None:
        self.skills = {s: i for i, s in enumerate(sorted(set(contexts.skills)))}
        self.industries = {a: i for i, a in enumerate(contexts.actions)}
        self.names = ["age", "skill", "industry", *content_names(contexts)]

    def rows(self, contexts: Contexts, seeker: np.ndarray, action: np.ndarray) -> np.ndarray:
        """[len(seeker), columns] for each (seeker row, action index) pair."""
        unknown = len(self.skills)
        skill = np.fromiter(
            (self.skills.get(contexts.skills[i], unknown) for i in seeker), dtype=np.float64
        )
        industry_code = np.asarray(
            [self.industries.get(a, len(self.industries)) for a in contexts.actions],
            dtype=np.float64,
        )
        return np.column_stack(
            [
                contexts.ages[seeker].astype(np.float64),
                skill,
                industry_code[action],
                contexts.content[seeker, action].astype(np.float64),
            ]
        )


def _fit(t: Transitions, seed: int) -> tuple[PeerPolicy, dict[str, float | int | str]]:
    columns = _Columns(t.contexts)
    x = columns.rows(t.contexts, t.state, t.actions)
    y = t.rewards.astype(np.float64)
    order = np.random.default_rng(seed).permutation(len(t))
    held = max(1, round(VALIDATION_SHARE * len(t)))
    fit_rows, valid_rows = order[held:], order[:held]
    params = {**PARAMS, "seed": seed}
    categorical = ["skill", "industry"]
    train_set = lgb.Dataset(
        x[fit_rows], y[fit_rows], feature_name=columns.names, categorical_feature=categorical
    )
    valid_set = lgb.Dataset(x[valid_rows], y[valid_rows], reference=train_set)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
    )

    def score(contexts: Contexts) -> np.ndarray:
        n, n_actions = len(contexts), len(contexts.actions)
        seeker = np.repeat(np.arange(n), n_actions)
        action = np.tile(np.arange(n_actions), n)
        predicted = booster.predict(
            columns.rows(contexts, seeker, action), num_iteration=booster.best_iteration
        )
        return np.asarray(predicted, dtype=np.float64).reshape(n, n_actions)

    return PeerPolicy(score), {"rounds": int(booster.best_iteration), "max_rounds": MAX_ROUNDS}


def fit(transitions: Transitions, seed: int = 0) -> PeerFit:
    """Fit the reward model on the logged rows; greedy = highest predicted reward."""
    return timed(lambda: _fit(transitions, seed))
