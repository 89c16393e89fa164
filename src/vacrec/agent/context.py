"""The agent's context: one feature row per (seeker, industry), as contextual bandits use.

A seeker is (age, skill, preference text). For every industry of the catalog
the context holds how well the seeker's words match that industry's postings —
best cosine, rank-weighted mean cosine of the five best (the cards), share of
postings matched — once for the preference and once for the skill's own words, plus the
industry's size, the *expected card cosine*: how close the industry's cards come to the
posting the preference points to (``vacrec.ranking.expected_cosine``; zero with no words),
the *place miss*: the share of the industry's postings outside the place and work format
the seeker asked for (in the fields or the words; 0 when they asked for none, as then every
posting fits), and the *card cosines*: each of the five cards' own expected cosine to the
wanted posting, in card order (the expected card cosine is their mean; a seeker rates each
card, so how they spread matters: one close card and four far ones are not five middling).
The Q-network scores each row with one shared scorer, so an industry or a skill it never
saw still gets a score from its content. The prior reads none of the last three kinds.

The content prior — the policy served before any feedback — is how well each
industry's best postings (the cards it would show) match the seeker's words,
the skill's words counting ``SKILL_TEXT_WEIGHT`` as much as the preference.

Matching text against postings is the ranking index's job; this module only
asks a :class:`Matcher` for the numbers, so the agent does not depend on how
the catalog is indexed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vacrec.domain import AGE_MAX, AGE_MIN

ENCODING_VERSION = 8
"""Stored with every model; version 1 was the [age, one-hot skill] state, version 2 the seven
match columns without the expected card cosine, version 3 eight without the place miss,
version 4 a place miss counted from other postings' places (the index's recency order read as
the catalog's), version 5 match scores before a title holding none of the words cut them to a
tenth (``ranking.index.TITLE_COVERAGE``) and the expected card cosine's belief on raw scores,
version 6 match scores before a title's other words counted (``TITLE_PRECISION``) and while
English content words ("web", "test") were stop words, version 7 the nine columns without the
five card cosines (and the expected card cosine before padding cards were chosen by meaning)."""

PREFERENCE_FEATURES = ("preference_best", "preference_top", "preference_share")
SKILL_FEATURES = ("skill_best", "skill_top", "skill_share")
EXPECTED_COSINE_FEATURE = "expected_card_cosine"
CARDS = 5
"""Cards per industry whose cosines the matcher reports (the ranking's
``expected_cosine.CARDS``, as served; a test holds the two equal)."""
CARD_COSINE_FEATURES = tuple(f"card_cosine_{k}" for k in range(1, CARDS + 1))
"""Each of an industry's five cards' expected cosine to the wanted posting, in the match's
order: its best matches, then its padding (what the cards are before ``place.choose`` puts the
place first and keeps one card per job)."""
WORDS_FEATURES = (*PREFERENCE_FEATURES, EXPECTED_COSINE_FEATURE, *CARD_COSINE_FEATURES)
"""The columns read from what the seeker wrote (zero when they wrote nothing)."""
PLACE_MISS_FEATURE = "place_miss"
CONTENT_FEATURES = (
    *PREFERENCE_FEATURES,
    *SKILL_FEATURES,
    "industry_size",
    EXPECTED_COSINE_FEATURE,
    PLACE_MISS_FEATURE,
    *CARD_COSINE_FEATURES,
)
"""Columns of :attr:`Contexts.content`, in this order."""
LEARNED_ONLY_FEATURES = (*WORDS_FEATURES, PLACE_MISS_FEATURE)
"""The columns read from what the seeker asked (zero when they asked nothing): only feedback
on such requests gives them a meaning, so the network's weights for them start at zero."""
N_CONTENT = len(CONTENT_FEATURES)
PREFERENCE_TOP = CONTENT_FEATURES.index("preference_top")
SKILL_TOP = CONTENT_FEATURES.index("skill_top")
INDUSTRY_SIZE = CONTENT_FEATURES.index("industry_size")
EXPECTED_COSINE = CONTENT_FEATURES.index(EXPECTED_COSINE_FEATURE)
PLACE_MISS = CONTENT_FEATURES.index(PLACE_MISS_FEATURE)
CARD_COSINES = slice(
    CONTENT_FEATURES.index(CARD_COSINE_FEATURES[0]),
    CONTENT_FEATURES.index(CARD_COSINE_FEATURES[-1]) + 1,
)
"""The card cosine columns (contiguous, in card order)."""

Place = tuple[str | None, str | None]
"""A request's ``area`` and ``work_format`` fields as given (None: not given)."""
NO_PLACE: Place = (None, None)

SKILL_TEXT_WEIGHT = 0.1
"""The skill's words count a tenth of what the seeker wrote: enough to choose when the
preference is empty or says nothing, too little to overrule it (the skill is a coarse
category; the preference is the seeker's own words)."""
SIZE_TIE_BREAK = 1e-3
"""Among industries matching equally (e.g. nothing at all), prefer the larger one."""


class Matcher(Protocol):
    """What the context needs of the catalog: match features of a text for every industry."""

    @property
    def actions(self) -> tuple[str, ...]: ...

    def match_features(self, text: str) -> np.ndarray:
        """[n_actions, 3] best / top / share of ``text``, in ``actions`` order, in [0, 1]."""
        ...

    def industry_sizes(self) -> np.ndarray:
        """[n_actions] postings per industry."""
        ...

    def expected_cosines(self, text: str) -> np.ndarray:
        """[n_actions, 1 + CARDS] expected cosine of each industry's cards to the posting
        ``text`` wants: their mean, then each card's in card order."""
        ...

    def place_miss_of(self, text: str, place: Place) -> np.ndarray:
        """[n_actions] share of each industry's postings outside the place and work format
        asked for by the fields ``place`` or, where they give none, by ``text``; 0 when none
        is."""
        ...


@dataclass(frozen=True)
class Contexts:
    """A batch of seekers with every action's feature row."""

    ages: np.ndarray  # int64 [n]
    skills: tuple[str, ...]  # [n] skill names as the vocabulary spells them
    content: np.ndarray  # float32 [n, n_actions, N_CONTENT]
    actions: tuple[str, ...]  # industry names, column order of ``content``

    def __len__(self) -> int:
        return int(self.ages.shape[0])

    def take(self, rows: np.ndarray | Sequence[int]) -> Contexts:
        """The seekers at ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        return Contexts(
            self.ages[rows], tuple(self.skills[i] for i in rows), self.content[rows], self.actions
        )


def scale_age(ages: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """Ages mapped linearly to [0, 1] (14 → 0, 100 → 1), clipped outside that range."""
    a = np.asarray(ages, dtype=np.float32)
    return np.clip((a - AGE_MIN) / (AGE_MAX - AGE_MIN), 0.0, 1.0)


def content_match(content: np.ndarray) -> np.ndarray:
    """How well each industry's best postings match the seeker's words, in [0, 1]: [..., A]."""
    return (content[..., PREFERENCE_TOP] + SKILL_TEXT_WEIGHT * content[..., SKILL_TOP]) / (
        1.0 + SKILL_TEXT_WEIGHT
    )


def prior_scores(content: np.ndarray) -> np.ndarray:
    """The content prior: :func:`content_match` plus a tiny size tie-break, shape [..., A]."""
    return content_match(content) + SIZE_TIE_BREAK * content[..., INDUSTRY_SIZE]


class ContextEncoder:
    """Turns seekers into :class:`Contexts` against one catalog; skill rows are cached.

    One encoder belongs to one catalog snapshot (immutable), so its cache never
    goes stale; it holds one small array per skill.
    """

    def __init__(self, matcher: Matcher, skill_texts: dict[str, str]) -> None:
        self.matcher = matcher
        self.actions = tuple(matcher.actions)
        self._skill_texts = dict(skill_texts)
        sizes = np.asarray(matcher.industry_sizes(), dtype=np.float64)
        largest = max(float(sizes.max()) if sizes.size else 0.0, 1.0)
        self._size_feature = (np.log1p(sizes) / math.log1p(largest)).astype(np.float32)
        self._skill_rows: dict[str, np.ndarray] = {}

    def _skill_features(self, skill: str) -> np.ndarray:
        found = self._skill_rows.get(skill)
        if found is None:
            text = self._skill_texts.get(skill, skill)
            found = self._skill_rows[skill] = self.matcher.match_features(text)
        return found

    def encode(
        self,
        ages: Sequence[int] | np.ndarray,
        skills: Sequence[str],
        preferences: Sequence[str],
        places: Sequence[Place] | None = None,
    ) -> Contexts:
        """Feature rows of every seeker × action; repeated preferences are matched once.
        ``places``: each request's ``area`` and ``work_format`` fields (default: none given)."""
        n = len(skills)
        places = [NO_PLACE] * n if places is None else places
        if len(ages) != n or len(preferences) != n or len(places) != n:
            raise ValueError("ages, skills, preferences and places must have the same length")
        content = np.empty((n, len(self.actions), N_CONTENT), dtype=np.float32)
        matched: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        misses: dict[tuple[str, Place], np.ndarray] = {}
        for i, (skill, text, place) in enumerate(zip(skills, preferences, places, strict=True)):
            found = matched.get(text)
            if found is None:
                found = matched[text] = (
                    self.matcher.match_features(text),
                    self.matcher.expected_cosines(text),
                )
            content[i, :, :3] = found[0]
            content[i, :, EXPECTED_COSINE] = found[1][:, 0]
            content[i, :, CARD_COSINES] = found[1][:, 1:]
            miss = misses.get((text, place))
            if miss is None:
                miss = misses[text, place] = self.matcher.place_miss_of(text, place)
            content[i, :, PLACE_MISS] = miss
            content[i, :, 3:6] = self._skill_features(skill)
        content[:, :, INDUSTRY_SIZE] = self._size_feature
        return Contexts(np.asarray(ages, dtype=np.int64), tuple(skills), content, self.actions)

    def encode_one(
        self,
        age: int,
        skill: str,
        preference: str,
        preference_features: np.ndarray | None = None,
        expected_cosines: np.ndarray | None = None,
        place_miss: np.ndarray | None = None,
    ) -> Contexts:
        """One seeker; ``preference_features``, ``expected_cosines`` ([n_actions, 1 + CARDS],
        as :meth:`Matcher.expected_cosines`) and ``place_miss`` when the caller already has them
        (the serving path matches the text once for the context and the cards, and reads the
        place, fields included, once); else encoded with no place fields."""
        if preference_features is None or expected_cosines is None or place_miss is None:
            return self.encode([age], [skill], [preference])
        content = np.empty((1, len(self.actions), N_CONTENT), dtype=np.float32)
        content[0, :, :3] = preference_features
        content[0, :, EXPECTED_COSINE] = expected_cosines[:, 0]
        content[0, :, CARD_COSINES] = expected_cosines[:, 1:]
        content[0, :, PLACE_MISS] = place_miss
        content[0, :, 3:6] = self._skill_features(skill)
        content[0, :, INDUSTRY_SIZE] = self._size_feature
        return Contexts(np.asarray([age], dtype=np.int64), (skill,), content, self.actions)
