"""An immutable, fully built view of one catalog version: cards, actions and the index.

A snapshot is columns and arrays, no Python object per vacancy (see ``cards.py`` and
``index.py``). It is built from records handed to it (:meth:`CatalogSnapshot.from_records`)
or assembled from saved parts (``saved.py``); where the records come from, when a new one is
built and how a process swaps it in are the application layer's (``vacrec.app.snapshots``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TypedDict

import numpy as np

from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.cards import SNIPPET_CHARS, Card, CardTable, ColumnBuilder, snippet
from vacrec.ranking.expected_cosine import expected_card_cosine
from vacrec.ranking.index import IndexDocument, Match, Ranked, TfidfIndex
from vacrec.ranking.place import Places, topic

__all__ = [  # Card and snippet live in cards.py; callers import them from here
    "SNIPPET_CHARS",
    "BuildOptions",
    "Card",
    "CatalogRecord",
    "CatalogSnapshot",
    "build_options",
    "snippet",
]


class CatalogSnapshot:
    """Cards, the action list and the ranking index of one catalog version."""

    def __init__(
        self,
        version: int | None,
        actions: tuple[str, ...],
        cards: CardTable,
        index: TfidfIndex,
    ) -> None:
        self.version = version
        self.actions = actions
        self.cards = cards
        self.index = index
        # The index orders industries by name too, but the action list is the store's.
        position = {name: i for i, name in enumerate(index.industries)}
        self._action_rows = np.asarray([position.get(a, -1) for a in actions], dtype=np.int64)

    @classmethod
    def from_records(
        cls,
        version: int | None,
        records: Iterable[CatalogRecord],
        actions: tuple[str, ...] | None = None,
        *,
        min_df: int = 1,
        max_terms: int | None = None,
        spill_folder: Path | None = None,
        with_meaning: bool = True,
    ) -> CatalogSnapshot:
        """Build cards and the index, reading ``records`` once (they may be streamed);
        ``actions`` defaults to the records' sorted groups. See :meth:`TfidfIndex.build` for
        ``min_df`` and ``max_terms``; big text columns are written to ``spill_folder`` (see
        :class:`ColumnBuilder`); ``with_meaning``: encode terms and postings for the fusion of
        meaning and words (``ranking.meaning``)."""
        columns = ColumnBuilder(folder=spill_folder)

        def documents() -> Iterator[IndexDocument]:
            for r in records:
                columns.add_record(r)
                yield IndexDocument(r.id, r.description, r.industries, r.published_at, r.name)

        index = TfidfIndex.build(
            documents(), min_df=min_df, max_terms=max_terms, with_meaning=with_meaning
        )
        cards = CardTable(columns.arrays())
        return cls(version, actions if actions is not None else index.industries, cards, index)

    @classmethod
    def empty(cls) -> CatalogSnapshot:
        return cls(None, (), CardTable.empty(), TfidfIndex.build([]))

    def top_k(self, industry: str, preference: str, k: int) -> Ranked:
        """The k vacancies of ``industry`` that best match ``preference`` (see :class:`Ranked`)."""
        return self.index.top_k(industry, preference, k)

    def shared_words(self, text: str, vacancy_id: str) -> tuple[str, ...]:
        """The words of ``text`` that one vacancy's title or description shares."""
        number = self.cards.number_of(vacancy_id)
        return () if number < 0 else self.index.shared_words(text, number)

    def match(self, text: str) -> Match:
        """Match ``text`` once; gives every industry's features and any industry's top k."""
        return self.index.match(text)

    def features_of(self, match: Match) -> np.ndarray:
        """``MATCH_FEATURES`` of every action, in :attr:`actions` order: [n_actions, 3]."""
        features = match.features()
        out = features[np.maximum(self._action_rows, 0)]
        out[self._action_rows < 0] = 0.0
        return out

    def expected_cosine_of(self, match: Match) -> np.ndarray:
        """The expected card cosine (``ranking.expected_cosine``) of every action: [n_actions]."""
        found = expected_card_cosine(self.index, match)[np.maximum(self._action_rows, 0)]
        found[self._action_rows < 0] = 0.0
        return found

    def topic_of(self, text: str) -> str:
        """``text`` as serving matches it: without the place or work format its words name
        (see :func:`vacrec.ranking.place.topic`), so a context encoded again from logged
        words for training is the one that was served."""
        return topic(text, self.places.understand(text))

    def expected_card_cosine(self, text: str) -> np.ndarray:
        """The expected card cosine of ``text`` for every action (an agent content column)."""
        return self.expected_cosine_of(self.match(self.topic_of(text)))

    def match_features(self, text: str) -> np.ndarray:
        """``MATCH_FEATURES`` of ``text`` for every action (the agent's content features)."""
        return self.features_of(self.match(self.topic_of(text)))

    @cached_property
    def places(self) -> Places:
        """The catalog's areas, to read a seeker's city (built on first use)."""
        return Places(self.cards.area_names)

    def industry_sizes(self) -> np.ndarray:
        """Vacancies per action."""
        sizes = self.index.sizes[np.maximum(self._action_rows, 0)]
        return np.where(self._action_rows < 0, 0, sizes)


PRUNE_FROM = 50_000
"""From this many vacancies on, the serving index drops stems found in a single posting: there
they are mostly typos and one-off names, and the vocabulary is what grows with the catalog.
Smaller catalogs keep every stem (one posting's rare word is then a fair signal)."""
MAX_TERMS = 500_000
"""At most this many stems (the most frequent) in a serving index."""


class BuildOptions(TypedDict):
    """How the serving index is built (see :meth:`CatalogSnapshot.from_records`)."""

    min_df: int
    max_terms: int | None


def build_options(vacancies: int) -> BuildOptions:
    """``min_df`` and ``max_terms`` of the serving index of a catalog this large."""
    return {"min_df": 2 if vacancies >= PRUNE_FROM else 1, "max_terms": MAX_TERMS}
