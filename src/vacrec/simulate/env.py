"""Simulated job seekers grounded in the catalog, as a Gymnasium environment.

A seeker wants one real posting and writes what it says (see
:mod:`vacrec.simulate.population`). The service picks an industry and shows
the cards ``snapshot.top_k(industry, preference, k)`` — exactly what it would
show. The seeker up-votes each card with a probability that grows with the
card's TF-IDF cosine to the wanted posting and with the seeker's hidden taste
for the industry (:mod:`vacrec.simulate.votes`, :mod:`vacrec.simulate.taste`).
The reward is tanh(sum of votes), as in the service.

Expected rewards are exact (a Poisson-binomial sum over the very cards the
service would show), so a policy can be scored without sampling noise; sampled
votes use the same probabilities. One episode is one seeker's session of 1–3
requests.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from vacrec.domain import AGE_MAX, AGE_MIN
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.simulate.population import (
    PREFERENCE_MAX_CHARS,
    Population,
    Seeker,
    Seekers,
)
from vacrec.simulate.postings import Postings
from vacrec.simulate.taste import Taste, TasteMode, skill_content_match
from vacrec.simulate.votes import expected_tanh_of_votes, sample_votes, up_probability

_POSTERIOR_SEEKERS = 256
"""Seekers whose possible postings are scored at once (a blank seeker may want any posting)."""
SESSION_LENGTHS = (1, 2, 3)
SESSION_PROBS = (0.6, 0.25, 0.15)
"""Requests per seeker's session and their probabilities."""

_WORD_CHARACTERS = string.ascii_letters + string.digits + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
"""What a description word a seeker types is made of (titles add their own characters)."""


def _stable_seed(seed: int, actions: Sequence[str], skills: Sequence[str]) -> int:
    """A seed that depends on the names, not on Python's per-process string hashing."""
    text = "\x1f".join([str(seed), *actions, "\x1e", *skills])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


class JobSeekerEnv(gym.Env[dict[str, Any], Any]):
    """One episode = one simulated seeker's session; one step = one recommendation.

    Observation: ``{"age", "skill" (index into :attr:`skills`), "preference"}``.
    Action: industry index into :attr:`actions` (``snapshot.actions``).
    Reward: tanh(sum of the seeker's ±1 votes on the cards shown).
    """

    metadata = {"render_modes": []}  # noqa: RUF012  (gymnasium's convention)

    def __init__(
        self,
        snapshot: CatalogSnapshot,
        skills: Sequence[str],
        seed: int = 0,
        k: int = 5,
        taste: TasteMode = "independent",
        blank_share: float = 0.0,
    ) -> None:
        if not snapshot.actions or not skills:
            raise ValueError("the simulator needs at least one industry and one skill")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.snapshot = snapshot
        self.actions: tuple[str, ...] = tuple(snapshot.actions)
        self.skills: tuple[str, ...] = tuple(skills)
        self.k = int(k)
        self.postings = Postings(snapshot)
        self.population = Population(snapshot, self.postings, self.skills, blank_share)
        self.taste = Taste.build(
            taste,
            skill_content_match(snapshot, self.skills),
            np.random.default_rng(_stable_seed(seed, self.actions, self.skills)),
        )

        self.action_space = spaces.Discrete(len(self.actions))
        titles = (snapshot.cards[str(snapshot.index.ids[n])].name for n in self.postings.served)
        charset = frozenset(_WORD_CHARACTERS + " ").union(*titles)
        self.observation_space = spaces.Dict(
            {
                "age": spaces.Discrete(AGE_MAX - AGE_MIN + 1, start=AGE_MIN),
                "skill": spaces.Discrete(len(self.skills)),
                "preference": spaces.Text(PREFERENCE_MAX_CHARS, min_length=0, charset=charset),
            }
        )
        self._seeker: Seeker | None = None
        self._remaining = 0

    @property
    def industries(self) -> tuple[str, ...]:
        """The action list (an alias of :attr:`actions`)."""
        return self.actions

    # --- seekers ---------------------------------------------------------------------------
    def sample_seekers(self, n: int, rng: np.random.Generator) -> Seekers:
        """``n`` seekers drawn from the catalog's postings (deterministic given ``rng``)."""
        return self.population.sample(n, rng)

    # --- what they see and how they vote ---------------------------------------------------
    def shown_postings(self, seekers: Seekers) -> np.ndarray:
        """Numbers of the postings the service would show each seeker for each industry (the
        cards of ``snapshot.top_k``): int64 [n, n_actions, k], −1 after the last card of an
        industry with fewer than k. Each distinct preference is matched once."""
        out = np.full((len(seekers), len(self.actions), self.k), -1, dtype=np.int64)
        done: dict[str, np.ndarray] = {}
        number_of = self.postings.number_of
        for i, preference in enumerate(seekers.preferences):
            shown = done.get(preference)
            if shown is None:
                shown = np.full((len(self.actions), self.k), -1, dtype=np.int64)
                match = self.snapshot.index.match(preference)
                for a, industry in enumerate(self.actions):
                    items = match.top_k(industry, self.k).items
                    shown[a, : len(items)] = [number_of[vid] for vid, _ in items]
                done[preference] = shown
            out[i] = shown
        return out

    def vote_probabilities(
        self, seeker: Seeker, action: int, vacancy_ids: Sequence[str]
    ) -> np.ndarray:
        """P(up-vote) of each of these cards when shown for industry ``action``: [m].
        A vacancy the snapshot does not hold counts as unrelated to the wanted posting."""
        number_of = self.postings.number_of
        shown = np.asarray([[number_of.get(str(v), -1) for v in vacancy_ids]], dtype=np.int64)
        similarity = self.postings.cosines(np.asarray([seeker.wants]), shown)[0]
        taste = self.taste.of(np.asarray([seeker.skill]), np.asarray([seeker.age]))[0, action]
        return up_probability(similarity, taste)

    def votes(
        self,
        seeker: Seeker,
        action: int,
        vacancy_ids: Sequence[str],
        rng: np.random.Generator,
    ) -> list[int]:
        """The seeker's ±1 votes on the cards shown for industry ``action``."""
        if not vacancy_ids:
            return []
        return sample_votes(self.vote_probabilities(seeker, action, vacancy_ids), rng)

    # --- exact expectations ----------------------------------------------------------------
    def expected_rewards(self, seekers: Seekers) -> np.ndarray:
        """E[tanh(sum of votes)] of each industry for each seeker: float64 [n, n_actions]."""
        shown = self.shown_postings(seekers)
        similarity = self.postings.cosines(seekers.wants, shown)
        taste = self.taste.of(seekers.skills, seekers.ages)
        return expected_tanh_of_votes(up_probability(similarity, taste[:, :, None]), shown >= 0)

    def oracle(self, seekers: Seekers) -> np.ndarray:
        """Best expected reward per seeker (a policy knowing the taste and the wanted posting)."""
        best: np.ndarray = self.expected_rewards(seekers).max(axis=1)
        return best

    def observable_oracle_choice(self, seekers: Seekers) -> np.ndarray:
        """The industry a policy that knows this simulator exactly but sees only what the
        service sees (age, skill, words) would choose: the best expected reward averaged over
        the postings the seeker may want (:meth:`Population.posterior`). What it loses
        against :meth:`oracle` is what the words cannot say; the rest of any policy's
        shortfall is what it has not learnt. int64 [n]."""
        choice = np.empty(len(seekers), dtype=np.int64)
        for start in range(0, len(seekers), _POSTERIOR_SEEKERS):
            rows = range(start, min(len(seekers), start + _POSTERIOR_SEEKERS))
            owners, wants, weights = [], [], []
            for i in rows:
                numbers, probs = self.population.posterior(
                    seekers.preferences[i], int(seekers.skills[i])
                )
                owners += [i - start] * len(numbers)
                wants.append(numbers)
                weights.append(probs)
            owner = np.asarray(owners, dtype=np.int64)
            batch = seekers.take(np.arange(start, rows.stop))
            imagined = Seekers(
                batch.ages[owner],
                batch.skills[owner],
                tuple(batch.preferences[i] for i in owner),
                np.concatenate(wants),
            )
            weighted = self.expected_rewards(imagined) * np.concatenate(weights)[:, None]
            expected = np.zeros((len(batch), len(self.actions)))
            np.add.at(expected, owner, weighted)
            choice[start : rows.stop] = expected.argmax(axis=1)
        return choice

    # --- Gymnasium API ---------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        self._seeker = self.sample_seekers(1, self.np_random)[0]
        self._remaining = int(self.np_random.choice(SESSION_LENGTHS, p=SESSION_PROBS))
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._seeker is None or self._remaining <= 0:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not an industry index")
        action = int(action)
        ranked = self.snapshot.top_k(self.actions[action], self._seeker.preference, self.k)
        shown = [vid for vid, _ in ranked.items]
        votes = self.votes(self._seeker, action, shown, self.np_random)
        self._remaining -= 1
        info = self._info() | {"shown": shown, "votes": votes}
        return self._observation(), float(np.tanh(sum(votes))), self._remaining == 0, False, info

    def _observation(self) -> dict[str, Any]:
        assert self._seeker is not None
        seeker = self._seeker
        return {"age": seeker.age, "skill": seeker.skill, "preference": seeker.preference}

    def _info(self) -> dict[str, Any]:
        assert self._seeker is not None
        expected = self.expected_rewards(Seekers.of([self._seeker]))[0]
        return {
            "wants": str(self.snapshot.index.ids[self._seeker.wants]),
            "remaining": self._remaining,
            "oracle": float(expected.max()),
            "best_action": int(expected.argmax()),
        }
