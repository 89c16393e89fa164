"""The bench's peers (real Vowpal Wabbit and LightGBM) learn from logged rows as vacrec does."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from vacrec.agent.context import N_CONTENT, Contexts
from vacrec.agent.policy import greedy
from vacrec.agent.transitions import Transitions
from vacrec.benchmarks import peers

ACTIONS = ("Retail", "IT, telecom", "Arts: media")  # spaces and separators VW must not see
BEST = 1
SKILLS = ("Design", "Sales manager")


def _contexts(n: int, rng: np.random.Generator) -> Contexts:
    content = rng.random((n, len(ACTIONS), N_CONTENT)).astype(np.float32)
    return Contexts(
        rng.integers(18, 65, size=n),
        tuple(SKILLS[i] for i in rng.integers(len(SKILLS), size=n)),
        content,
        ACTIONS,
    )


def _log(n: int, seed: int) -> Transitions:
    """Uniformly explored requests where industry ``BEST`` is clearly the best for everyone."""
    rng = np.random.default_rng(seed)
    actions = rng.integers(len(ACTIONS), size=n)
    mean = np.where(actions == BEST, 0.6, -0.4)
    rewards = np.clip(mean + rng.normal(0, 0.3, size=n), -1, 1).astype(np.float32)
    return Transitions(
        _contexts(n, rng),
        np.arange(n),
        np.full(n, -1),
        actions,
        rewards,
        np.full(n, 1 / len(ACTIONS)),
    )


@pytest.mark.parametrize("name", sorted(peers.PEERS))
def test_a_peer_fitted_on_a_log_picks_the_clearly_best_action(name: str) -> None:
    fits, missing = peers.load_peers()
    assert not missing, missing  # the dev extra includes the bench extra
    fitted = fits[name](_log(600, seed=1), 0)

    fresh = _contexts(200, np.random.default_rng(99))
    scores = fitted.policy.q_values(fresh)
    assert scores.shape == (200, len(ACTIONS))
    assert (greedy(fitted.policy, fresh) == BEST).mean() >= 0.95
    assert fitted.seconds > 0


def test_a_peer_that_cannot_be_imported_is_named_with_the_way_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "vowpalwabbit", None)  # import raises ImportError
    fits, missing = peers.load_peers()
    assert "vw" not in fits and "lightgbm" in fits
    assert "vowpalwabbit" in missing["vw"] and "[bench]" in missing["vw"]
