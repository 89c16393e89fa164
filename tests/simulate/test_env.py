"""The simulated job seekers: deterministic liking, learnable structure, exact expectations."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from vacrec.agent.skills import skill_vocabulary
from vacrec.simulate.env import JobSeekerEnv, expected_tanh_reward

INDUSTRIES = tuple(f"отрасль {i}" for i in range(12))
SKILLS = skill_vocabulary()


def test_liking_is_deterministic_given_names_and_seed():
    a = JobSeekerEnv(INDUSTRIES, SKILLS, seed=3)
    b = JobSeekerEnv(INDUSTRIES, SKILLS, seed=3)
    c = JobSeekerEnv(INDUSTRIES, SKILLS, seed=4)
    ages, skills = np.array([20, 45]), np.array([0, 5])
    np.testing.assert_array_equal(
        a.vote_probabilities(ages, skills), b.vote_probabilities(ages, skills)
    )
    assert not np.allclose(a.vote_probabilities(ages, skills), c.vote_probabilities(ages, skills))


def test_skills_prefer_different_industries_and_age_shifts_the_choice():
    env = JobSeekerEnv(INDUSTRIES, SKILLS, seed=0)
    n = len(SKILLS)
    young = env.expected_rewards(np.full(n, 20), np.arange(n)).argmax(axis=1)
    old = env.expected_rewards(np.full(n, 58), np.arange(n)).argmax(axis=1)
    assert len(set(young.tolist())) >= 5  # not one industry for everyone
    assert (young != old).sum() >= n // 2  # age matters for many skills
    # ...and the best industry is clearly better than a random one
    rewards = env.expected_rewards(np.full(n, 30), np.arange(n))
    assert (rewards.max(axis=1) - rewards.mean(axis=1)).min() > 0.8


def test_expected_tanh_reward_matches_closed_forms():
    p = np.array([0.0, 0.3, 1.0])
    np.testing.assert_allclose(expected_tanh_reward(p, 1), (2 * p - 1) * np.tanh(1))
    # n = 2: tanh(2)·p² + 0 + tanh(−2)·(1−p)²
    np.testing.assert_allclose(expected_tanh_reward(p, 2), np.tanh(2) * (p**2 - (1 - p) ** 2))
    assert expected_tanh_reward(np.array([0.9]), 0)[0] == 0.0


def test_votes_follow_the_liking():
    env = JobSeekerEnv(INDUSTRIES, SKILLS, seed=1)
    rng = np.random.default_rng(0)
    p = env.vote_probabilities(np.array([30]), np.array([2]))[0, 4]
    votes = env.votes(30, 2, 4, 20_000, rng)
    assert set(votes) <= {-1, 1}
    assert np.mean(np.array(votes) == 1) == pytest.approx(p, abs=0.015)


def test_gymnasium_api_sessions_and_oracle():
    env = JobSeekerEnv(INDUSTRIES, SKILLS, seed=2, shown_counts=[5] * 11 + [1])
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=7)
    assert 14 <= obs["age"] <= 100 and 0 <= obs["skill"] < len(SKILLS)
    assert info["preference"] and -1 <= info["oracle"] <= 1
    steps, terminated = 0, False
    while not terminated:
        obs2, reward, terminated, truncated, step_info = env.step(11)
        steps += 1
        assert obs2 == obs and not truncated
        assert len(step_info["votes"]) == 1  # industry 11 has one vacancy
        assert reward == pytest.approx(np.tanh(sum(step_info["votes"])))
    assert 1 <= steps <= 3
    with pytest.raises(RuntimeError):
        env.step(0)
