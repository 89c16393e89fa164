"""Propensities logged by ε-greedy serving."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.agent.policy import epsilon_greedy, policy_matrix


def test_no_model_is_uniform_with_propensity_one_over_n():
    rng = np.random.default_rng(0)
    decisions = [epsilon_greedy(None, 4, 0.1, rng) for _ in range(2_000)]
    assert {d.propensity for d in decisions} == {0.25}
    assert all(d.greedy is None for d in decisions)
    counts = np.bincount([d.action for d in decisions], minlength=4)
    assert counts.min() > 400  # every action served


def test_explore_false_serves_greedy_with_propensity_one():
    q = np.array([0.1, 0.7, -0.2])
    d = epsilon_greedy(q, 3, 0.5, np.random.default_rng(0), explore=False)
    assert (d.action, d.propensity, d.greedy) == (1, 1.0, 1)


def test_epsilon_greedy_propensities_match_how_often_actions_are_chosen():
    q = np.array([0.0, 0.0, 1.0, 0.5])
    eps, n = 0.2, 20_000
    rng = np.random.default_rng(1)
    decisions = [epsilon_greedy(q, 4, eps, rng) for _ in range(n)]
    expected = {2: 1 - eps + eps / 4, 0: eps / 4, 1: eps / 4, 3: eps / 4}
    for d in decisions[:200]:
        assert d.propensity == pytest.approx(expected[d.action])
    freq = np.bincount([d.action for d in decisions], minlength=4) / n
    for action, p in expected.items():
        assert freq[action] == pytest.approx(p, abs=0.01)


def test_policy_matrix_rows_are_distributions():
    pi = policy_matrix(np.array([0, 2]), 3, epsilon=0.3)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    np.testing.assert_allclose(pi[0], [0.8, 0.1, 0.1])


def test_bad_arguments_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="shape"):
        epsilon_greedy(np.zeros(3), 4, 0.1, rng)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy(None, 4, 1.5, rng)
