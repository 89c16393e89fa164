"""Who the simulated job seekers are: people who want one real posting of the catalog.

A seeker is drawn by first drawing the posting they want (uniformly over the
postings that belong to at least one served industry). Everything visible
about them follows from it, as it would for a real person looking for that
kind of job: what they type is the posting's title or a few of the words that
set its description apart from the rest of the catalog, and their skill is
the vocabulary skill whose words match the posting best. Only the age is
drawn independently of the posting. So the seeker's words carry real but
imperfect information about what they like, the same information the service
can see.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vacrec.agent.skills import skill_text
from vacrec.catalog.text import cut_at_word, normalise, tokenize
from vacrec.domain import AGE_MAX, AGE_MIN
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.simulate.postings import Postings

AGE_MEAN, AGE_SD = 32.0, 10.0
"""Ages ~ Normal(32, 10), rounded and clipped to what the service accepts."""
TITLE_SHARE = 0.5
"""How often a seeker types the wanted posting's title rather than words of its description."""
DESCRIPTION_WORDS = (2, 5)
"""A seeker who describes the posting types this many of its characteristic words (inclusive)."""
CHARACTERISTIC_POOL = 8
"""...drawn from this many of the description's most characteristic words."""
MIN_POSTINGS_PER_WORD = 2
"""A characteristic word appears in at least this many postings: one only a single posting
uses is mostly a name or a typo, not what a seeker would type."""
PREFERENCE_MAX_CHARS = 256
"""What the API accepts in the preference field; longer titles are cut at a word boundary."""


@dataclass(frozen=True)
class Seeker:
    """One simulated job seeker."""

    age: int
    skill: int  # index into the environment's skills
    preference: str
    wants: int  # number of the wanted posting: its position in ``snapshot.index.ids``


@dataclass(frozen=True)
class Seekers:
    """A batch of simulated job seekers, column-wise (what exact evaluation works on)."""

    ages: np.ndarray  # int64 [n]
    skills: np.ndarray  # int64 [n], index into the environment's skills
    preferences: tuple[str, ...]  # [n], possibly empty
    wants: np.ndarray  # int64 [n], wanted posting's position in ``snapshot.index.ids``

    def __len__(self) -> int:
        return int(self.ages.shape[0])

    def __getitem__(self, i: int) -> Seeker:
        return Seeker(
            int(self.ages[i]), int(self.skills[i]), self.preferences[i], int(self.wants[i])
        )

    def take(self, rows: Sequence[int] | np.ndarray) -> Seekers:
        """The seekers at ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        return Seekers(
            self.ages[rows],
            self.skills[rows],
            tuple(self.preferences[i] for i in rows),
            self.wants[rows],
        )

    @classmethod
    def of(cls, seekers: Sequence[Seeker]) -> Seekers:
        """A batch made of single seekers (e.g. to score one seeker exactly)."""
        return cls(
            np.asarray([s.age for s in seekers], dtype=np.int64),
            np.asarray([s.skill for s in seekers], dtype=np.int64),
            tuple(s.preference for s in seekers),
            np.asarray([s.wants for s in seekers], dtype=np.int64),
        )


def clip_preference(text: str, limit: int = PREFERENCE_MAX_CHARS) -> str:
    """Whitespace collapsed and cut to ``limit`` characters at a word boundary."""
    return cut_at_word(text, limit)


class Population:
    """Draws seekers from the postings of one catalog snapshot for a skill vocabulary.

    Built once per environment: each posting's skill and (lazily) its
    characteristic words; postings are numbered as in ``snapshot.index.ids``.
    """

    def __init__(
        self,
        snapshot: CatalogSnapshot,
        postings: Postings,
        skills: Sequence[str],
        blank_share: float = 0.0,
    ) -> None:
        if not 0.0 <= blank_share <= 1.0:
            raise ValueError(f"blank_share must be within [0, 1], got {blank_share}")
        self.snapshot = snapshot
        self.postings = postings
        self.skills = tuple(skills)
        self.blank_share = float(blank_share)
        self.posting_skill = self._skills_of_postings()
        self._idf: dict[str, float] | None = None
        self._stem_of: dict[str, str] = {}
        self._characteristic: dict[int, tuple[tuple[str, int], ...]] = {}
        self._typed_index: tuple[dict[str, list[int]], dict[str, set[int]]] | None = None

    # --- the skill a posting calls for -------------------------------------------------------
    def _skills_of_postings(self) -> np.ndarray:
        """Per posting: the skill whose words match it best (−1 when none matches at all). One
        match per skill, read industry by industry."""
        index, number_of = self.snapshot.index, self.postings.number_of
        best = np.full(len(index.ids), -1, dtype=np.int64)
        best_score = np.zeros(len(index.ids), dtype=np.float64)
        for s, skill in enumerate(self.skills):
            match = index.match(skill_text(skill))
            if match.empty:
                continue
            score = np.zeros(len(index.ids), dtype=np.float64)
            for industry, size in zip(index.industries, index.sizes, strict=True):
                if size:
                    for vid, cosine in match.top_k(industry, int(size)).items:
                        score[number_of[vid]] = cosine
            better = score > best_score  # ties keep the earlier skill
            best[better], best_score[better] = s, score[better]
        return best

    # --- what a seeker types ----------------------------------------------------------------
    def _stem(self, word: str) -> str:
        stem = self._stem_of.get(word)
        if stem is None:
            stems = normalise(word)
            stem = self._stem_of[word] = stems[0] if stems else ""
        return stem

    def _document_idf(self) -> dict[str, float]:
        """Smoothed idf over the catalog's distinct descriptions of every stem used by at
        least ``MIN_POSTINGS_PER_WORD`` of them (computed once)."""
        if self._idf is None:
            df: Counter[str] = Counter()
            texts = {card.description for card in self.snapshot.cards.values()}  # re-posts once
            for text in texts:
                df.update({self._stem(w) for w in tokenize(text)} - {""})
            n = len(texts)
            self._idf = {
                stem: math.log((1 + n) / (1 + d)) + 1.0
                for stem, d in df.items()
                if d >= MIN_POSTINGS_PER_WORD
            }
        return self._idf

    def _characteristic_pool(self, posting: int) -> tuple[tuple[str, int], ...]:
        """(word, first position) of the posting's most characteristic words, best first."""
        found = self._characteristic.get(posting)
        if found is not None:
            return found
        idf = self._document_idf()
        description = self.snapshot.cards[str(self.snapshot.index.ids[posting])].description
        counts: Counter[str] = Counter()
        first: dict[str, tuple[int, str]] = {}
        for position, word in enumerate(tokenize(description)):
            stem = self._stem(word)
            if stem in idf:
                counts[stem] += 1
                first.setdefault(stem, (position, word))
        ranked = sorted(counts, key=lambda s: (-(1.0 + math.log(counts[s])) * idf[s], first[s][0]))
        found = tuple((first[s][1], first[s][0]) for s in ranked[:CHARACTERISTIC_POOL])
        self._characteristic[posting] = found
        return found

    def characteristic_words(self, posting: int) -> tuple[str, ...]:
        """Up to ``CHARACTERISTIC_POOL`` words of the posting's description, most characteristic
        first: TF-IDF of their stem in it (sublinear tf; smoothed idf over the catalog's
        distinct descriptions, stems of fewer than ``MIN_POSTINGS_PER_WORD`` of them left out),
        ties to the earlier word. Each stem is given as its first surface form, as a person
        would type it (the service normalises it again)."""
        return tuple(word for word, _ in self._characteristic_pool(posting))

    def _describe(self, posting: int, rng: np.random.Generator) -> str:
        """2–5 of the characteristic words, in the order the description has them."""
        pool = self._characteristic_pool(posting)
        low, high = DESCRIPTION_WORDS
        count = min(len(pool), int(rng.integers(low, high + 1)))
        if not count:
            return ""
        picked = [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]
        return " ".join(word for word, _ in sorted(picked, key=lambda wp: wp[1]))

    # --- drawing seekers --------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator) -> Seekers:
        """``n`` seekers; deterministic given the generator's state."""
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        if not len(self.postings.served):
            raise ValueError("no posting belongs to a served industry: nobody to simulate")
        wants = rng.choice(self.postings.served, size=n)
        ages = np.clip(np.rint(rng.normal(AGE_MEAN, AGE_SD, n)), AGE_MIN, AGE_MAX)
        blank = rng.random(n) < self.blank_share
        use_title = rng.random(n) < TITLE_SHARE
        skills = self.posting_skill[wants]
        unmatched = skills < 0
        skills[unmatched] = rng.integers(len(self.skills), size=int(unmatched.sum()))
        cards, ids = self.snapshot.cards, self.snapshot.index.ids
        preferences = []
        for posting, is_blank, title in zip(wants.tolist(), blank, use_title, strict=True):
            text = ""
            if not is_blank:
                if not title:
                    text = self._describe(posting, rng)
                text = text or cards[str(ids[posting])].name  # the title when words say nothing
            preferences.append(clip_preference(text))
        return Seekers(ages.astype(np.int64), skills.astype(np.int64), tuple(preferences), wants)

    # --- what a seeker's visible traits say about the posting they want ---------------------
    def _title(self, posting: int) -> str:
        return clip_preference(self.snapshot.cards[str(self.snapshot.index.ids[posting])].name)

    def _typing_index(self) -> tuple[dict[str, list[int]], dict[str, set[int]]]:
        """Served postings by the title a seeker would type, and by each characteristic word."""
        if self._typed_index is None:
            by_title: dict[str, list[int]] = {}
            by_word: dict[str, set[int]] = {}
            for posting in self.postings.served.tolist():
                by_title.setdefault(self._title(posting), []).append(posting)
                for word in self.characteristic_words(posting):
                    by_word.setdefault(word, set()).add(posting)
            self._typed_index = by_title, by_word
        return self._typed_index

    def _text_likelihood(self, posting: int, text: str) -> float:
        """P(a seeker who wants ``posting`` types ``text``), as :meth:`sample` draws it."""
        title = self._title(posting)
        pool = self._characteristic_pool(posting)
        if not pool:  # nothing characteristic to describe: always the title
            typed = float(text == title)
        else:
            described = 0.0
            words = text.split(" ")
            position = dict(pool)
            distinct_pool_words = len(set(words)) == len(words) and all(
                w in position for w in words
            )
            if distinct_pool_words and sorted(words, key=position.__getitem__) == words:
                low, high = DESCRIPTION_WORDS
                counts = range(low, high + 1)
                drawn = sum(min(len(pool), c) == len(words) for c in counts) / len(counts)
                described = drawn / math.comb(len(pool), len(words))
            typed = TITLE_SHARE * float(text == title) + (1.0 - TITLE_SHARE) * described
        return self.blank_share * float(text == "") + (1.0 - self.blank_share) * typed

    def posterior(self, preference: str, skill: int) -> tuple[np.ndarray, np.ndarray]:
        """The postings a seeker who typed ``preference`` with ``skill`` may want, and the
        probability of each given only those (and :meth:`sample`'s process): what the
        service could know at best. Returns (posting numbers, probabilities summing to 1)."""
        by_title, by_word = self._typing_index()
        if preference == "":
            candidates = set(self.postings.served.tolist())
        else:
            candidates = set(by_title.get(preference, ()))
            found = [by_word.get(w, set()) for w in preference.split(" ")]
            if all(found):
                candidates |= set.intersection(*found)
        numbers = np.asarray(sorted(candidates), dtype=np.int64)
        weights = np.zeros(len(numbers), dtype=np.float64)
        n_skills = len(self.skills)
        for i, posting in enumerate(numbers.tolist()):
            calls_for = int(self.posting_skill[posting])
            skill_p = (1.0 / n_skills) if calls_for < 0 else float(calls_for == skill)
            if skill_p:
                weights[i] = skill_p * self._text_likelihood(posting, preference)
        keep = weights > 0
        numbers, weights = numbers[keep], weights[keep]
        if not len(numbers):
            raise ValueError(f"no posting could make a seeker type {preference!r}")
        return numbers, weights / weights.sum()
