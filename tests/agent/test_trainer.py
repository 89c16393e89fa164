"""TD targets on a hand-computed batch, the derived number of updates, and learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vacrec.agent.trainer import TrainConfig, td_targets, train
from vacrec.agent.transitions import build_transitions


def test_double_dqn_targets_on_a_hand_computed_batch():
    rewards = torch.tensor([1.0, -0.5, 0.25])
    dones = torch.tensor([False, True, False])
    # Online net picks the action; target net supplies its value.
    next_online = torch.tensor([[0.1, 0.9, 0.3], [5.0, 0.0, 0.0], [0.7, 0.2, 0.6]])
    next_target = torch.tensor([[10.0, 2.0, -1.0], [9.0, 9.0, 9.0], [-2.0, 4.0, 8.0]])
    y = td_targets(rewards, dones, next_online, next_target, gamma=0.95)
    # row 0: argmax online = 1 → target 2.0 → 1 + 0.95·2 = 2.9 (not max target 10)
    # row 1: terminal → −0.5
    # row 2: argmax online = 0 → target −2.0 → 0.25 − 1.9 = −1.65
    assert y.tolist() == pytest.approx([2.9, -0.5, -1.65])


def test_number_of_updates_is_derived_from_data_size():
    config = TrainConfig(batch_size=100, epochs=10, min_updates=50, max_updates=1_000)
    assert config.n_updates(2_000) == 200
    assert config.n_updates(10) == 50  # floor
    assert config.n_updates(1_000_000) == 1_000  # cap
    assert TrainConfig(updates=7).n_updates(1_000_000) == 7
    assert "derived from data size" in config.stopping_rule()


def _bandit(n: int, seed: int):
    """Two skills, three actions; skill 0 likes action 2, skill 1 likes action 0."""
    rng = np.random.default_rng(seed)
    skills = rng.integers(2, size=n)
    actions = rng.integers(3, size=n)
    best = np.where(skills == 0, 2, 0)
    rewards = np.where(actions == best, 0.9, -0.6) + rng.normal(0, 0.1, n)
    return build_transitions(
        rng.integers(18, 60, size=n),
        skills,
        actions,
        rewards,
        np.full(n, 1 / 3),
        n_skills=2,
        next_index=np.full(n, -1),
    )


def test_training_is_reproducible_and_learns_a_simple_bandit():
    t = _bandit(600, seed=3)
    config = TrainConfig(batch_size=64, learning_rate=3e-3, updates=400, seed=5)
    a = train(t, ["x", "y", "z"], ["s0", "s1"], config)
    b = train(t, ["x", "y", "z"], ["s0", "s1"], config)
    for pa, pb in zip(a.network.parameters(), b.network.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert a.updates == 400 and a.samples == 400 * 64
    assert a.final_loss < a.loss_curve[0]
    states = torch.tensor([[0.3, 1, 0], [0.3, 0, 1]], dtype=torch.float32)
    q = a.network(states).detach().numpy()
    assert q.argmax(axis=1).tolist() == [2, 0]
    assert q[0, 2] == pytest.approx(0.9, abs=0.15)


def test_training_refuses_states_of_another_vocabulary():
    t = _bandit(50, seed=1)
    with pytest.raises(ValueError, match="features"):
        train(t, ["x", "y", "z"], ["s0", "s1", "s2"], TrainConfig(updates=1))
