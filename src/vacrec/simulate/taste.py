"""The seekers' hidden taste: what, beyond the words of a card, makes a skill and age like an
industry.

Content alone (cosine to the wanted posting) can be learnt from the words;
taste can only be learnt from feedback, by using the skill and the age. It is a
logit added to every card's up-vote logit, defined per skill at two age
anchors — the young (18 and under) and the older (60 and over) — and blended
linearly in between, since tastes drift with age rather than jump at a birthday:

- ``independent``: every (skill, age anchor) has a favourite industry, drawn
  at random, on top of small noise — unrelated to the words.
- ``contradicting``: the words mislead. The favourites are drawn among the
  industries the skill's words point to least (bottom half by the skill's
  content match), and the industries they point to most get a negative taste,
  so a policy that follows the words alone serves the worst industries.

Deterministic given the generator it is built with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vacrec.agent.skills import skill_text
from vacrec.ranking.snapshot import CatalogSnapshot

TasteMode = Literal["independent", "contradicting"]
TASTE_MODES: tuple[str, ...] = ("independent", "contradicting")

YOUNG_AGE, OLDER_AGE = 18, 60
"""The two age anchors of the taste; between them it is blended linearly."""
N_AGE_BANDS = 2
"""Anchors: 0 = young, 1 = older."""
FAVOURITE_TASTE = 1.5
"""Logit added for a favourite industry: lifts an unrelated card from p ≈ 0.15 to ≈ 0.45,
strong enough to matter, not so strong that the cards' content stops mattering."""
FAVOURITES = (1, 1)
"""Each (skill, age anchor) has this many favourite industries (inclusive range)."""
MISLEADING_TASTE = -1.5
"""``contradicting``: logit added for the industries the skill's words point to most."""
MISLEADING_INDUSTRIES = 3
"""``contradicting``: how many of those industries are disliked."""
TASTE_NOISE = 0.3
"""Standard deviation of the small per-(skill, age anchor, industry) noise everywhere."""


def age_weight(ages: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """How far each age is towards the older anchor: 0 at 18 and under, 1 at 60 and over."""
    a = np.asarray(ages, dtype=np.float64)
    return np.clip((a - YOUNG_AGE) / (OLDER_AGE - YOUNG_AGE), 0.0, 1.0)


def age_band(ages: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """The nearer age anchor of each age: 0 (young) or 1 (older)."""
    return (age_weight(ages) >= 0.5).astype(np.int64)


def skill_content_match(snapshot: CatalogSnapshot, skills: Sequence[str]) -> np.ndarray:
    """How well each skill's words match each served industry: [n_skills, n_actions, 3] of the
    index's match features (best cosine, mean of the top five, share matched)."""
    return np.stack(
        [snapshot.match_features(skill_text(skill)).astype(np.float64) for skill in skills]
    ).reshape(len(skills), len(snapshot.actions), 3)


def words_order(match: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Industries of each skill from the one its words point to most to the least:
    [n_skills, n_actions]; by the mean cosine of the five best postings (what the
    content prior uses), then the best cosine, then at random."""
    top, best = match[..., 1], match[..., 0]
    jitter = rng.random(top.shape)
    return np.stack([np.lexsort((jitter[s], -best[s], -top[s])) for s in range(len(top))])


@dataclass(frozen=True)
class Taste:
    """Hidden taste logits and how they were made (for tests and reports)."""

    mode: str
    logits: np.ndarray  # float64 [n_skills, N_AGE_BANDS, n_actions]
    favourite: np.ndarray  # bool [n_skills, N_AGE_BANDS, n_actions]
    misleading: np.ndarray  # bool [n_skills, n_actions]; all False when ``independent``

    @classmethod
    def build(cls, mode: str, skill_match: np.ndarray, rng: np.random.Generator) -> Taste:
        """Draw the taste for skills whose content match over industries is ``skill_match``
        ([n_skills, n_actions, 3], see :func:`skill_content_match`)."""
        if mode not in TASTE_MODES:
            raise ValueError(f"taste must be one of {TASTE_MODES}, got {mode!r}")
        n_skills, n_actions = skill_match.shape[:2]
        logits = rng.normal(0.0, TASTE_NOISE, (n_skills, N_AGE_BANDS, n_actions))
        favourite = np.zeros(logits.shape, dtype=bool)
        misleading = np.zeros((n_skills, n_actions), dtype=bool)
        order = words_order(skill_match, rng)
        for s in range(n_skills):
            candidates = np.arange(n_actions)
            if mode == "contradicting":
                top = order[s, : min(MISLEADING_INDUSTRIES, n_actions)]
                misleading[s, top] = True
                bottom = order[s, n_actions - max(1, n_actions // 2) :]
                candidates = bottom[~misleading[s, bottom]]
                if not len(candidates):  # too few industries to keep them apart
                    candidates = bottom
            low, high = FAVOURITES
            count = min(len(candidates), int(rng.integers(low, high + 1)))
            per_anchor = min(len(candidates) // N_AGE_BANDS, count) or count
            picks = rng.choice(
                candidates, size=min(len(candidates), per_anchor * N_AGE_BANDS), replace=False
            )
            for band in range(N_AGE_BANDS):  # different favourites for the young and the older
                chosen = (
                    picks[band * per_anchor : (band + 1) * per_anchor] if len(picks) > 1 else picks
                )
                favourite[s, band, chosen] = True
        logits += FAVOURITE_TASTE * favourite + MISLEADING_TASTE * misleading[:, None, :]
        return cls(mode, logits, favourite, misleading)

    def of(self, skills: np.ndarray, ages: np.ndarray) -> np.ndarray:
        """Taste logits [n, n_actions] of seekers with these skill indices and ages."""
        skills = np.asarray(skills, dtype=np.int64)
        older = age_weight(ages)[:, None]
        logits: np.ndarray = (1.0 - older) * self.logits[skills, 0] + older * self.logits[skills, 1]
        return logits
