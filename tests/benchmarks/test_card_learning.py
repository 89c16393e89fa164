"""The `bench cards` simulator: disliked vacancies are never wanted and rarely liked."""

from __future__ import annotations

import numpy as np

from tests.simulate.catalogs import demo_snapshot
from vacrec.benchmarks.card_learning import DISLIKED_SHARE, DislikingEnv
from vacrec.domain import SkillVocabulary


def test_disliked_vacancies_are_a_share_never_wanted_and_liked_far_less() -> None:
    env = DislikingEnv(demo_snapshot(), SkillVocabulary().skills, seed=0, share=DISLIKED_SHARE)
    assert env.disliked.mean() == np.round(DISLIKED_SHARE * len(env.disliked)) / len(env.disliked)
    seekers = env.sample_seekers(300, np.random.default_rng(0))
    assert len(seekers) == 300 and not env.disliked[seekers.wants].any()

    ids = [str(v) for v in env.postings.ids]
    disliked = env.is_disliked(ids)
    seeker = seekers[0]
    wanted = str(env.postings.ids[seeker.wants])
    p = env.vote_probabilities(seeker, 0, ids)
    plain = super(DislikingEnv, env).vote_probabilities(seeker, 0, ids)
    assert np.allclose(p[~disliked], plain[~disliked])
    assert (p[disliked] < plain[disliked]).all() and p[disliked].max() < 0.2
    assert p[ids.index(wanted)] > 0.9  # the posting a seeker wants is liked as before
