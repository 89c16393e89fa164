"""Simulator scores: exact, on the same seekers; the oracle closes the whole gap, random none."""

from __future__ import annotations

import numpy as np
import pytest

from tests.simulate.catalogs import demo_snapshot
from vacrec.agent.skills import skill_text
from vacrec.domain import SkillVocabulary
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.evaluate import evaluate_on_simulator
from vacrec.simulate.population import Seekers

SKILLS = SkillVocabulary().skills
USERS = 1_500


def _env(taste: str = "independent") -> JobSeekerEnv:
    return JobSeekerEnv(demo_snapshot(), SKILLS, seed=0, taste=taste)


def _preference_policy(env: JobSeekerEnv):
    """The industry whose best postings match what the seeker typed (mean of the top five)."""

    def choose(seekers: Seekers) -> np.ndarray:
        return np.array(
            [env.snapshot.match_features(p)[:, 1].argmax() for p in seekers.preferences]
        )

    return choose


def _skill_words_policy(env: JobSeekerEnv):
    """The industry whose best postings match the skill's own words."""
    best = np.array([env.snapshot.match_features(skill_text(s))[:, 1].argmax() for s in SKILLS])
    return lambda seekers: best[seekers.skills]


def test_oracle_closes_the_whole_gap_random_none_and_a_fixed_action_little():
    env = _env()

    def oracle(seekers: Seekers) -> np.ndarray:
        return env.expected_rewards(seekers).argmax(axis=1)

    best = evaluate_on_simulator(env, oracle, users=USERS)
    assert best.gap_closed == pytest.approx(1.0)
    assert best.policy == pytest.approx(best.oracle) and best.oracle > best.random + 0.5
    fixed = evaluate_on_simulator(env, lambda s: np.zeros(len(s), dtype=np.int64), users=USERS)
    assert fixed.gap_closed < 0.3
    assert fixed.random == best.random and fixed.oracle == best.oracle  # the same seekers
    rng = np.random.default_rng(0)
    uniform = evaluate_on_simulator(
        env, lambda s: rng.integers(len(env.actions), size=len(s)), users=USERS
    )
    assert abs(uniform.gap_closed) < 0.1


def test_words_help_when_taste_is_independent_and_mislead_when_it_contradicts():
    honest, misled = _env("independent"), _env("contradicting")
    typed = evaluate_on_simulator(honest, _preference_policy(honest), users=USERS)
    assert typed.gap_closed > 0.25  # what seekers type points to good industries...
    skill_words = evaluate_on_simulator(misled, _skill_words_policy(misled), users=USERS)
    assert skill_words.gap_closed < 0.0  # ...but the skill's words now point to bad ones


def test_a_policy_must_choose_one_valid_action_per_seeker():
    env = _env()
    with pytest.raises(ValueError):
        evaluate_on_simulator(env, lambda s: np.zeros(len(s) - 1, dtype=np.int64), users=50)
    with pytest.raises(ValueError):
        evaluate_on_simulator(env, lambda s: np.full(len(s), len(env.actions)), users=50)
