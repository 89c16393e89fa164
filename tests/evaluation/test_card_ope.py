"""Per-card off-policy evaluation: exact swap propensities and an unbiased IIPS."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.evaluation.card_ope import iips, target_matches
from vacrec.ranking.card_swap import draw_cards, position_propensities, swap_outcomes

M, K, Q = 6, 5, 0.3
ITEM = np.array([1.5, 0.2, 1.0, -0.5, 0.8, 0.0])  # each candidate's appeal (logit)
POSITION = np.array([0.0, -0.3, -0.6, -0.9, -1.2])  # how much a lower place costs


def _expected_vote(candidate: int, position: int) -> float:
    p = 1.0 / (1.0 + np.exp(-(ITEM[candidate] + POSITION[position])))
    return float(2 * p - 1)


def _true_value(order: list[int]) -> float:
    return sum(_expected_vote(c, j) for j, c in enumerate(order))


def test_propensities_are_exact_and_sum_to_one_per_position() -> None:
    props = position_propensities(M, K, Q)
    assert props.shape == (M, K)
    assert np.allclose(props.sum(axis=0), 1.0)  # every position holds exactly one card
    assert props[0, 0] == pytest.approx(1 - Q / K)  # moves only when pair (0, 1) swaps
    assert props[5, 4] == pytest.approx(Q / K)  # the next candidate comes in by one swap
    assert props[0, 2] == 0.0  # a card moves one place at most
    # Observed frequencies match them.
    rng = np.random.default_rng(0)
    counts = np.zeros((M, K))
    for _ in range(10_000):
        order, logged = draw_cards(M, K, Q, rng)
        counts[order, np.arange(K)] += 1
        assert np.allclose(logged, props[order, np.arange(K)])
    assert np.abs(counts / 10_000 - props).max() < 0.01


def test_no_swap_possible_with_one_candidate_and_none_when_q_is_zero() -> None:
    orders, probs = swap_outcomes(1, K, 0.5)
    assert orders.tolist() == [[0]] and probs.tolist() == [1.0]
    assert position_propensities(3, K, 0.0)[:, :3].tolist() == np.eye(3).tolist()


def test_iips_is_exactly_unbiased_for_a_supported_target() -> None:
    target = [0, 2, 1, 3, 4]  # the logged ranker with one adjacent pair swapped
    orders, probs = swap_outcomes(M, K, Q)
    props = position_propensities(M, K, Q)
    expectation = 0.0
    for order, p in zip(orders, probs, strict=True):
        for j, candidate in enumerate(order):
            if target[j] == candidate:
                expectation += p * _expected_vote(candidate, j) / props[candidate, j]
    assert expectation == pytest.approx(_true_value(target))
    assert _true_value(target) != pytest.approx(_true_value([0, 1, 2, 3, 4]))


def test_iips_estimates_cover_the_truth_on_sampled_logs() -> None:
    target = [0, 2, 1, 3, 5]
    covered, errors, widths = 0, [], []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        shown, votes, mu = [], np.zeros((2_000, K)), np.zeros((2_000, K))
        for i in range(2_000):
            order, logged = draw_cards(M, K, Q, rng)
            shown.append([str(c) for c in order])
            mu[i] = logged
            p = [(1 + _expected_vote(c, j)) / 2 for j, c in enumerate(order)]
            votes[i] = np.where(rng.random(K) < p, 1.0, -1.0)
        pi = target_matches(shown, [[str(c) for c in target]] * len(shown))
        estimate = iips(votes, mu, pi, seed=seed)
        covered += estimate.low <= _true_value(target) <= estimate.high
        errors.append(estimate.value - _true_value(target))
        widths.append(estimate.high - estimate.low)
    assert covered >= 9
    # Unbiased: the mean error of ten logs is within three of its standard errors of zero.
    standard_error = np.mean(widths) / 3.92 / np.sqrt(len(errors))
    assert abs(np.mean(errors)) < 3 * standard_error


def test_a_target_the_log_cannot_support_is_refused() -> None:
    with pytest.raises(ValueError, match="propensity"):
        iips(np.ones((1, 2)), np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]))
    with pytest.raises(ValueError):
        iips(np.ones((1, 2)), np.ones((1, 3)), np.ones((1, 2)))
