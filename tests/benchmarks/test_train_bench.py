"""bench train's noise-free log: exact expected rewards, explored as the service explores."""

from __future__ import annotations

import numpy as np

from tests.simulate.catalogs import demo_snapshot
from vacrec.agent.context import ContextEncoder, content_match
from vacrec.agent.policy import ANY_INDUSTRY_SHARE, related_industries
from vacrec.agent.skills import skill_texts
from vacrec.benchmarks import train as bench_train
from vacrec.domain import SkillVocabulary
from vacrec.simulate.env import JobSeekerEnv

SKILLS = SkillVocabulary().skills


def test_the_noise_free_log_holds_exact_rewards_of_actions_explored_as_served(monkeypatch):
    monkeypatch.setattr(bench_train, "EVENTS", 400)
    snapshot = demo_snapshot()
    env = JobSeekerEnv(snapshot, SKILLS, seed=3)
    encoder = ContextEncoder(snapshot, skill_texts(SKILLS))

    log = bench_train._noise_free_log(env, encoder, SKILLS, seed=3)

    assert len(log) == 400 and bool(log.dones.all())
    # the same seekers again, to recompute what each logged row should hold
    seekers = env.sample_seekers(400, np.random.default_rng(3 + bench_train.NOISE_FREE_SEED_OFFSET))
    expected = env.expected_rewards(seekers)
    rows = np.arange(400)
    np.testing.assert_allclose(log.rewards, expected[rows, log.actions], atol=1e-6)
    # exploration as served: a related action had (1 − share)/k + share/A, any other share/A
    n_actions = len(env.actions)
    related = np.stack([related_industries(content_match(c)) for c in log.contexts.content])
    k = related.sum(axis=1)
    some = (k > 0) & (k < n_actions)
    chose_related = related[rows, log.actions]
    lone = ANY_INDUSTRY_SHARE / n_actions
    np.testing.assert_allclose(log.propensities[some & ~chose_related], lone)
    np.testing.assert_allclose(
        log.propensities[some & chose_related],
        (1 - ANY_INDUSTRY_SHARE) / k[some & chose_related] + lone,
    )
    assert chose_related.mean() > 1 - ANY_INDUSTRY_SHARE  # most explorations follow the words


def test_a_blank_population_logs_and_scores_seekers_who_typed_nothing(monkeypatch):
    """``--blank-share 1``: every logged request has no words, so the preference columns of its
    context are zero; with the default share some seekers typed something."""
    from importlib import resources
    from pathlib import Path

    from vacrec.agent.context import PREFERENCE_TOP
    from vacrec.agent.trainer import TrainConfig
    from vacrec.benchmarks.store import catalog_store

    monkeypatch.setattr(bench_train, "EVAL_USERS", 200)
    monkeypatch.setattr(bench_train, "TrainConfig", lambda **kw: TrainConfig(updates=20, **kw))
    demo = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    typed = {}
    with resources.as_file(demo) as catalog, catalog_store(Path(catalog), "t", print) as store:
        for share in (0.0, 1.0):
            figures, log, _ = bench_train._one_population(
                *store, 0, "independent", lambda _m: None, budgets=(150,), blank_share=share
            )
            assert figures["transitions"] == 150
            typed[share] = float((log.contexts.content[..., PREFERENCE_TOP].max(axis=1) > 0).mean())
    assert typed[1.0] == 0.0 < typed[0.0]
