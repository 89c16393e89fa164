"""The vote term: shrunk toward the average card, per seeker group, and a no-op without votes."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.ranking.vote_prior import (
    VotePrior,
    VoteTable,
    age_band,
    group_key,
    rerank,
    vote_terms,
)

PRIOR = VotePrior(weight=0.3, prior_strength=5.0, group_strength=5.0)
A, B, C = group_key("акварель", 0), group_key("3d", 0), group_key("акварель", 2)


def _terms(up: int, down: int, mean: float = 0.0) -> float:
    z = np.zeros(1)
    return float(vote_terms(np.array([up]), np.array([down]), z, z, mean, PRIOR)[0])


def test_one_vote_moves_little_and_fifty_consistent_votes_move_a_lot() -> None:
    one, fifty = _terms(0, 1), _terms(0, 50)
    assert -0.06 < one < 0  # 1/6 of the weight at most
    assert fifty < -0.8 * PRIOR.weight
    assert _terms(50, 0) > 0.8 * PRIOR.weight
    assert _terms(25, 25) == pytest.approx(0.0)


def test_a_vacancy_voted_like_the_average_card_does_not_move() -> None:
    # When cards are mostly down-voted (mean −0.6), a vacancy at −0.6 is just average.
    assert _terms(20, 80, mean=-0.6) == pytest.approx(0.0)
    assert _terms(0, 100, mean=-0.6) < -0.3 * PRIOR.weight


def test_a_groups_own_votes_override_the_vacancy_wide_estimate() -> None:
    rows = [("x", A, 0, 50), ("x", B, 50, 0), ("y", A, 10, 10), ("y", B, 10, 10)]
    table = VoteTable.from_rows(rows)
    assert table.mean == pytest.approx(0.0)
    for_a, for_b, for_c = (table.terms(["x", "y", "z"], g, PRIOR) for g in (A, B, C))
    assert for_a[0] < -0.2 and for_b[0] > 0.2  # each group follows its own votes
    assert for_c[0] == pytest.approx(0.0, abs=1e-9)  # a group that never rated x: x-wide (0)
    assert for_a[2] == for_b[2] == 0.0  # nobody rated z
    assert for_a[1] == pytest.approx(0.0)


def test_rerank_without_votes_is_the_text_order_and_demoted_cards_stay_last() -> None:
    items = [("a", 0.9), ("b", 0.5), ("c", 0.4), ("d", 0.0), ("e", 0.0)]
    assert rerank(items, np.zeros(5), set(), 3) == items[:3]
    assert rerank(items, np.zeros(5), {"a"}, 5) == [*items[1:], items[0]]
    lifted = rerank(items, np.array([-0.6, 0.0, 0.0, 0.0, 0.35]), set(), 3)
    assert [vid for vid, _ in lifted] == ["b", "c", "e"]
    assert dict(lifted)["b"] == 0.5  # the score shown stays the cosine


def test_age_bands() -> None:
    assert [age_band(a) for a in (14, 29, 30, 44, 45, 100)] == [0, 0, 1, 1, 2, 2]


def test_an_empty_table_adds_nothing() -> None:
    assert VoteTable.from_rows([]).terms(["a"], A, PRIOR).tolist() == [0.0]
    with pytest.raises(ValueError):
        VotePrior(weight=-1)
