"""Simulator scores: oracle closes the whole gap, random none; a trained agent most of it."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.agent.policy import QModel
from vacrec.agent.skills import skill_vocabulary
from vacrec.agent.trainer import TrainConfig, train
from vacrec.agent.transitions import build_transitions, session_next_index
from vacrec.evaluation.simulator_eval import evaluate_on_simulator
from vacrec.simulate.env import JobSeekerEnv

INDUSTRIES = tuple(f"отрасль {i:02d}" for i in range(23))
SKILLS = skill_vocabulary()


def test_oracle_closes_the_whole_gap_and_a_fixed_action_does_not():
    env = JobSeekerEnv(INDUSTRIES, SKILLS, seed=0)

    def oracle(ages, skills):
        return env.expected_rewards(ages, skills).argmax(axis=1)

    best = evaluate_on_simulator(env, oracle, users=2_000)
    assert best.gap_closed == pytest.approx(1.0)
    assert best.policy == pytest.approx(best.oracle)
    fixed = evaluate_on_simulator(env, lambda a, s: np.zeros_like(a), users=2_000)
    assert fixed.gap_closed < 0.5
    assert fixed.random == best.random  # same users


def _log_with_gym(env: JobSeekerEnv, events: int, seed: int, random_rewards: bool = False):
    """Log ``events`` uniformly random recommendations through the Gymnasium API."""
    rng = np.random.default_rng(seed)
    ages, skills, actions, rewards, sessions = [], [], [], [], []
    episode = 0
    obs, _ = env.reset(seed=seed)
    while len(actions) < events:
        action = int(rng.integers(len(env.industries)))
        _, reward, terminated, _, _ = env.step(action)
        ages.append(obs["age"])
        skills.append(obs["skill"])
        actions.append(action)
        rewards.append(reward)
        sessions.append(f"u{episode}")
        if terminated:
            episode += 1
            obs, _ = env.reset()
    if random_rewards:  # what the original trained on
        rewards = np.tanh(rng.choice([-1, 1], size=(events, 5)).sum(axis=1))
    n = len(actions)
    return build_transitions(
        np.array(ages),
        np.array(skills),
        np.array(actions),
        np.array(rewards),
        np.full(n, 1 / len(env.industries)),
        len(SKILLS),
        session_next_index(sessions),
    )


def test_training_on_simulated_logs_beats_random_and_random_rewards_do_not():
    env = JobSeekerEnv(INDUSTRIES, SKILLS, seed=11)
    logs = _log_with_gym(env, 3_000, seed=11)
    assert 0 < (~logs.dones).sum() < len(logs)  # sessions give bootstrapped targets
    result = train(logs, INDUSTRIES, SKILLS, TrainConfig(seed=11))
    score = evaluate_on_simulator(env, QModel(result.network, INDUSTRIES, SKILLS).greedy_batch)
    assert score.policy - score.random > 0.9  # random ≈ −0.55, oracle ≈ +0.95
    assert score.gap_closed > 0.7

    noise = _log_with_gym(env, 3_000, seed=11, random_rewards=True)
    blind = train(noise, INDUSTRIES, SKILLS, TrainConfig(seed=11))
    blind_score = evaluate_on_simulator(env, QModel(blind.network, INDUSTRIES, SKILLS).greedy_batch)
    assert blind_score.gap_closed < 0.25
