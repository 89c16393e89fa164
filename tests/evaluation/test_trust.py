"""Which rows may teach and judge a model, and when the logs look steered."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.evaluation.trust import (
    DRIFT_MIN_ROWS,
    cap_client_share,
    client_cap,
    holdout_mask,
    reward_drift,
)


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_a_flooding_client_is_capped_to_its_share_of_what_is_kept():
    counts = np.array([15_000] + [1] * 1_200)
    cap = client_cap(counts, unknown=0, share=0.05, floor=20)

    assert cap is not None
    kept = np.minimum(counts, cap)
    assert cap <= 0.05 * kept.sum()  # a share of the rows after capping
    assert cap + 1 > 0.05 * (np.minimum(counts, cap + 1).sum())  # and the largest such cap


def test_nobody_is_capped_while_every_client_is_within_the_share():
    assert client_cap(np.array([5] * 100), unknown=0, share=0.05, floor=20) is None
    assert client_cap(np.array([], dtype=np.int64), unknown=10, share=0.05, floor=20) is None


def test_every_client_keeps_the_floor():
    assert client_cap(np.array([100, 100, 100]), unknown=0, share=0.05, floor=20) == 20


def test_capping_keeps_unknown_rows_and_a_sample_of_the_flooder():
    clients = np.array([-1] * 50 + [0] * 500 + list(range(1, 101)))
    keep = cap_client_share(clients, share=0.05, floor=5, rng=_rng())

    assert keep[:50].all()  # no identity: each row its own seeker
    assert keep[550:].all()  # one row each: within the share
    flooder = np.flatnonzero(clients == 0)
    kept = int(keep[flooder].sum())
    assert kept <= 0.05 * keep.sum() and kept >= 5
    # the sample spans the flooder's history, not its first rows
    assert flooder[keep[flooder]].max() - flooder[keep[flooder]].min() > 250


def test_capping_is_seeded():
    clients = np.array([0] * 300 + list(range(1, 50)))
    first = cap_client_share(clients, 0.05, 3, np.random.default_rng(7))
    again = cap_client_share(clients, 0.05, 3, np.random.default_rng(7))
    other = cap_client_share(clients, 0.05, 3, np.random.default_rng(8))
    assert (first == again).all() and not (first == other).all()


def test_the_holdout_takes_a_share_of_every_action_across_the_log():
    actions = np.array([0] * 900 + [1] * 90 + [2] * 10)
    held = holdout_mask(actions, 0.2, _rng())

    assert [int(held[actions == a].sum()) for a in (0, 1, 2)] == [180, 18, 2]
    held_rows = np.flatnonzero(held & (actions == 0))
    assert held_rows.min() < 100 and held_rows.max() > 800  # not the newest end


def test_the_holdout_share_is_checked():
    with pytest.raises(ValueError, match="share"):
        holdout_mask(np.zeros(10), 1.0, _rng())


def test_rewards_from_the_same_seekers_do_not_drift():
    rng = _rng()
    past = np.tanh(rng.integers(-3, 4, 600))
    recent = np.tanh(rng.integers(-3, 4, 200))
    drift = reward_drift(past, recent)

    assert drift is not None and not drift.departs(0.2)


def test_a_flood_of_top_ratings_departs_sharply():
    rng = _rng()
    past = np.tanh(rng.integers(-3, 4, 600))
    recent = np.concatenate([np.tanh(rng.integers(-3, 4, 50)), np.full(400, np.tanh(5))])
    drift = reward_drift(past, recent)

    assert drift is not None and drift.departs(0.2)
    assert drift.distance > 0.7 and drift.p_value < 1e-6
    assert "450 newest" in drift.describe()


def test_a_small_shift_is_not_called_drift_however_significant():
    rng = _rng()
    past = np.tanh(rng.integers(-3, 4, 50_000))
    recent = np.tanh(np.clip(rng.integers(-3, 4, 50_000) + (rng.random(50_000) < 0.1), -3, 3))
    drift = reward_drift(past, recent)
    assert drift is not None and drift.p_value < 1e-3 and not drift.departs(0.2)


def test_too_few_rows_say_nothing():
    ok = np.zeros(DRIFT_MIN_ROWS)
    assert reward_drift(ok[:-1], ok) is None and reward_drift(ok, ok[:-1]) is None
    assert reward_drift(ok, ok) is not None
