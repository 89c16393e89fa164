"""Off-policy estimators on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.agent.policy import policy_matrix
from vacrec.evaluation.ope import (
    LoggedData,
    compare,
    doubly_robust,
    evaluate,
    ips,
    most_popular_action,
    reward_table,
    snips,
    uniform_policy,
)


def _data(actions, rewards, propensities):
    return LoggedData(
        np.asarray(actions), np.asarray(rewards, float), np.asarray(propensities, float)
    )


def test_uniform_logging_deterministic_target_ips_equals_snips_equals_true_value():
    # Two actions logged uniformly, each taken equally often; action 0 pays 1, action 1 pays 0.
    data = _data([0, 1, 0, 1], [1.0, 0.0, 1.0, 0.0], [0.5] * 4)
    always_0 = policy_matrix(np.zeros(4, int), 2)
    always_1 = policy_matrix(np.ones(4, int), 2)
    assert ips(data, always_0) == snips(data, always_0) == 1.0
    assert ips(data, always_1) == snips(data, always_1) == 0.0
    assert ips(data, uniform_policy(4, 2)) == 0.5


def test_snips_normalises_by_the_weights_where_ips_does_not():
    # Action 0 was logged three times out of four: IPS weights sum to 6 over 4 rows.
    data = _data([0, 0, 0, 1], [1.0, 1.0, 1.0, 0.0], [0.5] * 4)
    always_0 = policy_matrix(np.zeros(4, int), 2)
    assert ips(data, always_0) == pytest.approx(6 / 4)  # overshoots the true value 1
    assert snips(data, always_0) == pytest.approx(6 / 6)


def test_epsilon_greedy_target_weights():
    # Logged uniformly over 4 actions; target ε-greedy (ε = 0.2) around action 2.
    data = _data([2, 0, 2, 3], [1.0, 0.5, 1.0, -1.0], [0.25] * 4)
    pi = policy_matrix(np.full(4, 2), 4, epsilon=0.2)
    w = np.array([0.85, 0.05, 0.85, 0.05]) / 0.25
    assert ips(data, pi) == pytest.approx((w * data.rewards).mean())
    assert snips(data, pi) == pytest.approx((w * data.rewards).sum() / w.sum())


def test_doubly_robust_is_exact_with_a_perfect_model_and_equals_ips_with_a_zero_model():
    data = _data([0, 1, 1, 0], [0.7, -0.2, -0.2, 0.7], [0.9, 0.1, 0.1, 0.9])
    pi = policy_matrix(np.array([1, 1, 0, 0]), 2)
    perfect = np.tile([0.7, -0.2], (4, 1))
    # True value: rows 0–1 take action 1 (−0.2), rows 2–3 take action 0 (0.7) → 0.25.
    assert doubly_robust(data, pi, perfect) == pytest.approx(0.25)
    assert doubly_robust(data, pi, np.zeros((4, 2))) == pytest.approx(ips(data, pi))


def test_bootstrap_intervals_bracket_the_estimate_and_shrink_with_more_data():
    rng = np.random.default_rng(0)

    def logged(n):
        actions = rng.integers(3, size=n)
        rewards = np.where(actions == 1, 1.0, -1.0) + rng.normal(0, 0.3, n)
        return _data(actions, rewards, np.full(n, 1 / 3))

    small, large = logged(300), logged(3_000)
    widths = []
    for data in (small, large):
        pi = policy_matrix(np.ones(len(data), int), 3)
        est = evaluate(data, pi, q_hat=np.zeros((len(data), 3)), n_boot=300, seed=1)
        assert set(est) == {"ips", "snips", "dr"}
        for e in est.values():
            assert e.low <= e.value <= e.high
        assert est["snips"].low < 1.0 < est["snips"].high
        widths.append(est["snips"].high - est["snips"].low)
    assert widths[1] < widths[0] / 2


def test_paired_difference_of_a_policy_with_itself_is_exactly_zero():
    data = _data([0, 1, 2, 1], [1.0, 0.0, -1.0, 0.5], [1 / 3] * 4)
    pi = policy_matrix(np.array([0, 1, 1, 2]), 3)
    q_hat = np.full((4, 3), 0.1)
    diff = compare(data, pi, pi, q_hat, n_boot=100)
    assert (diff.value, diff.low, diff.high) == (0.0, 0.0, 0.0)
    better = compare(data, policy_matrix(np.zeros(4, int), 3), pi, q_hat, n_boot=100)
    assert better.value == pytest.approx(
        doubly_robust(data, policy_matrix(np.zeros(4, int), 3), q_hat)
        - doubly_robust(data, pi, q_hat)
    )


def test_reward_table_shrinks_cells_towards_the_action_mean():
    skills = np.array([0, 0, 1, 1])
    actions = np.array([0, 0, 0, 1])
    rewards = np.array([1.0, 1.0, -1.0, 0.0])
    table = reward_table(skills, actions, rewards, n_skills=2, n_actions=2, prior=1.0)
    overall = 0.25
    action0 = (1 + 1 - 1 + overall) / (3 + 1)
    assert table[0, 0] == pytest.approx((2 + action0) / 3)
    assert table[1, 0] == pytest.approx((-1 + action0) / 2)
    assert table[0, 1] == pytest.approx((0 + overall) / 2)  # unseen cell = action mean


def test_most_popular_corrects_for_logging_propensities():
    # Action 0 was over-logged with middling rewards; action 1 is rarer but better.
    data = _data([0, 0, 0, 0, 1], [0.2, 0.2, 0.2, 0.2, 0.9], [0.8, 0.8, 0.8, 0.8, 0.2])
    assert most_popular_action(data, 2) == 1


def test_rows_without_propensities_are_refused():
    with pytest.raises(ValueError, match="propensities"):
        _data([0], [1.0], [np.nan])
