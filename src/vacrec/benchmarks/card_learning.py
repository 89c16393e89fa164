"""`vacrec bench cards`, the "learning" section: do per-vacancy votes move the cards?

On the shared catalog, a random ``DISLIKED_SHARE`` of the vacancies is disliked by every
simulated seeker whatever their text (``DISLIKE_LOGIT`` on each such card's up-vote logit);
nobody wants one (a seeker's wanted posting is drawn among the others). Then:

1. a fixed set of evaluation seekers is served greedily (``explore=False``) through the real
   service layer: the share of disliked vacancies among their cards, and how often the
   posting each wants is among the five (*before*);
2. ``EVENTS`` rated requests go through the same service layer, exactly as ``vacrec
   simulate`` (default ε, the content prior choosing the industry, per-card votes);
3. the vote job runs (:func:`vacrec.app.vacancy_votes.refresh_vacancy_votes`) and the
   service picks the sums up;
4. the same evaluation seekers are served again (*after*).

Targets (issue 18): the disliked share falls by at least half; the wanted posting's presence
drops by at most 0.05.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vacrec.benchmarks.store import catalog_store
from vacrec.config import Settings
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.population import Seekers

EVENTS = 4_000
EVAL_SEEKERS = 1_000
DISLIKED_SHARE = 0.3
DISLIKE_LOGIT = -6.0
"""Added to a disliked card's up-vote logit: as much as a perfect text match adds, so even the
closest card to what a seeker wants is then liked as rarely as an unrelated one."""
CARDS = 5
TARGET_FALL, TARGET_PRESENCE_DROP = 0.5, 0.05

Progress = Callable[[str], None]


class DislikingEnv(JobSeekerEnv):
    """The catalog-grounded simulator where some vacancies are disliked by everyone."""

    def __init__(
        self, snapshot: CatalogSnapshot, skills: tuple[str, ...], seed: int, share: float
    ) -> None:
        super().__init__(snapshot, skills, seed=seed)
        rng = np.random.default_rng([seed, 30])
        n = len(self.postings.ids)
        self.disliked = np.zeros(n, dtype=bool)
        self.disliked[rng.choice(n, size=round(share * n), replace=False)] = True

    def is_disliked(self, vacancy_ids: list[str]) -> np.ndarray:
        number_of = self.postings.number_of
        return np.asarray([self.disliked[number_of[v]] for v in vacancy_ids], dtype=bool)

    def sample_seekers(self, n: int, rng: np.random.Generator) -> Seekers:
        """``n`` seekers, each wanting a vacancy that is not disliked."""
        kept: list[int] = []
        drawn = Seekers(np.zeros(0, np.int64), np.zeros(0, np.int64), (), np.zeros(0, np.int64))
        while len(kept) < n:
            drawn = super().sample_seekers(2 * n, rng)
            kept = np.flatnonzero(~self.disliked[drawn.wants]).tolist()
        return drawn.take(np.asarray(kept[:n], dtype=np.int64))

    def vote_probabilities(self, seeker: Any, action: int, vacancy_ids: Any) -> np.ndarray:
        p = super().vote_probabilities(seeker, action, vacancy_ids)
        logit = np.log(p) - np.log1p(-p) + DISLIKE_LOGIT * self.is_disliked(list(vacancy_ids))
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
        return probabilities


def _greedy_cards(service: Any, env: DislikingEnv, seekers: Seekers) -> dict[str, float]:
    """Serve every seeker greedily; the disliked share of the cards and the wanted presence."""
    shown = disliked = present = 0
    for i in range(len(seekers)):
        rec = service.recommend(
            int(seekers.ages[i]),
            env.skills[int(seekers.skills[i])],
            seekers.preferences[i],
            k=CARDS,
            explore=False,
            source="bench",
        )
        ids = [item.id for item in rec.items]
        shown += len(ids)
        disliked += int(env.is_disliked(ids).sum())
        present += str(env.postings.ids[seekers.wants[i]]) in ids
    return {
        "disliked_share": round(disliked / max(shown, 1), 4),
        "wanted_in_cards": round(present / len(seekers), 4),
        "cards": shown,
    }


def run_learning(
    catalog: Path,
    progress: Progress | None = None,
    seed: int = 0,
    events: int = EVENTS,
    eval_seekers: int = EVAL_SEEKERS,
) -> dict[str, Any]:
    """The "learning" section of ``vacrec bench cards --json`` (see the module docstring)."""
    from vacrec.app.recommender import Recommender
    from vacrec.app.vacancy_votes import refresh_vacancy_votes
    from vacrec.simulate.runner import run_simulation

    note = progress or (lambda _m: None)
    with catalog_store(catalog, "bench cards", note) as (engine, home):
        settings = Settings(home=home, database_url=str(engine.url), simulator_seed=seed)
        service = Recommender.from_store(engine, settings, seed=seed)
        snapshot = service.snapshot()
        env = DislikingEnv(snapshot, settings.skill_vocabulary.skills, seed, DISLIKED_SHARE)
        judged = env.sample_seekers(eval_seekers, np.random.default_rng([seed, 1]))
        note(f"serving {eval_seekers} evaluation seekers greedily (no votes yet)")
        before = _greedy_cards(service, env, judged)
        note(f"{events} rated requests through the service layer")
        started = time.perf_counter()
        summary = run_simulation(service, env, events, seed=seed)
        simulate_s = time.perf_counter() - started
        note("vote job")
        job = refresh_vacancy_votes(engine, include_simulated=True)
        service.refresh()
        note(f"serving the {eval_seekers} evaluation seekers again")
        after = _greedy_cards(service, env, judged)
    fall = 1.0 - after["disliked_share"] / before["disliked_share"]
    drop = before["wanted_in_cards"] - after["wanted_in_cards"]
    return {
        "seed": seed,
        "events": events,
        "eval_seekers": eval_seekers,
        "disliked_share_of_catalog": DISLIKED_SHARE,
        "dislike_logit": DISLIKE_LOGIT,
        "epsilon": settings.epsilon,
        "vote_weight": settings.card_vote_weight,
        "vote_prior": settings.card_vote_prior,
        "before": before,
        "after": after,
        "disliked_share_fell_by": round(fall, 4),
        "wanted_presence_drop": round(drop, 4),
        "meets_targets": bool(fall >= TARGET_FALL and drop <= TARGET_PRESENCE_DROP),
        "logged_mean_reward": round(summary.mean_reward, 4),
        "simulate_seconds": round(simulate_s, 1),
        "vote_job": job,
    }
