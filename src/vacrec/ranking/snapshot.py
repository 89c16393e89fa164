"""An immutable, fully built view of one catalog version: cards, actions and the index.

A snapshot is columns and arrays, no Python object per vacancy (see ``cards.py`` and
``index.py``). It is built from records handed to it (:meth:`CatalogSnapshot.from_records`)
or assembled from saved parts (``saved.py``); where the records come from, when a new one is
built and how a process swaps it in are the application layer's (``vacrec.app.snapshots``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TypedDict, cast

import numpy as np

from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.cards import SNIPPET_CHARS, Card, CardTable, ColumnBuilder, snippet
from vacrec.ranking.expected_cosine import expected_cosines
from vacrec.ranking.index import IndexDocument, Match, Ranked, TfidfIndex
from vacrec.ranking.place import WORK_FORMATS, Places, Understood, UnknownArea, WorkFormat, topic

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

    def expected_cosines_of(self, match: Match) -> np.ndarray:
        """The expected card cosines (``ranking.expected_cosine.expected_cosines``: the mean,
        then each card's) of every action: [n_actions, 1 + CARDS]."""
        found = expected_cosines(self.index, match)[np.maximum(self._action_rows, 0)]
        found[self._action_rows < 0] = 0.0
        return found

    def topic_of(self, text: str) -> str:
        """``text`` as serving matches it: without the place or work format its words name
        (see :func:`vacrec.ranking.place.topic`), so a context encoded again from logged
        words for training is the one that was served."""
        return topic(text, self.places.understand(text))

    def expected_card_cosine(self, text: str) -> np.ndarray:
        """The expected card cosine of ``text`` for every action: [n_actions]."""
        return self.expected_cosines(text)[:, 0]

    def expected_cosines(self, text: str) -> np.ndarray:
        """:meth:`expected_cosines_of` ``text`` as serving matches it (agent content columns)."""
        return self.expected_cosines_of(self.match(self.topic_of(text)))

    def match_features(self, text: str) -> np.ndarray:
        """``MATCH_FEATURES`` of ``text`` for every action (the agent's content features)."""
        return self.features_of(self.match(self.topic_of(text)))

    def place_miss(self, wanted: Understood) -> np.ndarray:
        """The share of each action's postings outside the place and work format ``wanted``
        (what :func:`vacrec.ranking.place.choose` puts first): [n_actions], 0 when neither is
        asked for."""
        if wanted.area is None and wanted.work_format == "any":
            return np.zeros(len(self.actions), dtype=np.float32)
        office_in, remote, sizes = self._place_counts
        area = (
            self.cards.area_names.index(wanted.area) if wanted.area in self.cards.area_names else -1
        )
        here = office_in[:, area] if area >= 0 else np.zeros(len(sizes))
        if wanted.work_format == "remote":
            fitting = remote
        elif wanted.work_format == "office":
            fitting = here if wanted.area is not None else sizes - remote
        else:  # a city: its office jobs and every remote one
            fitting = here + remote
        miss = 1.0 - fitting / np.maximum(sizes, 1)
        return np.where(sizes > 0, miss, 0.0).astype(np.float32)

    def place_miss_of(self, text: str, place: tuple[str | None, str | None]) -> np.ndarray:
        """:meth:`place_miss` of a logged request: its ``area`` and ``work_format`` fields,
        else what its words say (an area the catalog no longer has counts as not given)."""
        area, work_format = place
        fmt = cast(WorkFormat, work_format) if work_format in WORK_FORMATS else None
        try:
            wanted = self.places.understand(text, area, fmt)
        except UnknownArea:
            wanted = self.places.understand(text, None, fmt)
        return self.place_miss(wanted)

    def servable(self, wanted: Understood, rejected: Collection[str] = ()) -> np.ndarray:
        """Per action: True when it has a card to show ``wanted`` — a posting in the work
        format the request's fields ask for (:func:`vacrec.ranking.place.choose` drops the
        others; a format said only in the words just orders them) that the session has not
        rejected. An action without one would serve an empty page."""
        strict = wanted.work_format != "any" and not wanted.format_from_words
        if not strict and not rejected:  # the common case: no per-posting count needed
            return self.industry_sizes() > 0
        _, remote, sizes = self._place_counts
        if strict and wanted.work_format == "remote":
            left = remote.copy()
        elif strict and wanted.work_format == "office":
            left = sizes - remote
        else:
            left = sizes.copy()
        if rejected:
            numbers = self._numbers_of(rejected)
            if strict:
                numbers = numbers[self.cards.remote[numbers] == (wanted.work_format == "remote")]
            _, _, segment = self._rows_by_card
            gone = np.bincount(
                segment[self._rows_of_cards(numbers)], minlength=len(self.index.sizes)
            )
            left -= self._per_action(gone)
        return left > 0

    def match_left(self, match: Match, rejected: Collection[str]) -> Match:
        """``match`` without the postings the session rejected (in every industry they are
        listed in), so the industries' features describe what each can still show."""
        if not rejected:
            return match
        return match.without(self._rows_of_cards(self._numbers_of(rejected)))

    def _numbers_of(self, ids: Collection[str]) -> np.ndarray:
        """The card numbers of ``ids``; an id that left the catalog since holds none."""
        numbers = np.asarray([self.cards.number_of(v) for v in ids], dtype=np.intp)
        return numbers[numbers >= 0]

    def _rows_of_cards(self, numbers: np.ndarray) -> np.ndarray:
        """Every (industry, posting) row of the index holding one of the cards ``numbers``."""
        order, sorted_cards, _ = self._rows_by_card
        first = np.searchsorted(sorted_cards, numbers, side="left")
        last = np.searchsorted(sorted_cards, numbers, side="right")
        pieces = [order[a:b] for a, b in zip(first, last, strict=True)]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.intp)

    def _per_action(self, per_industry: np.ndarray) -> np.ndarray:
        """A per-industry count (index order) in :attr:`actions` order, 0 for an action the
        index does not hold."""
        return np.where(self._action_rows >= 0, per_industry[np.maximum(self._action_rows, 0)], 0)

    def prepare_serving(self) -> CatalogSnapshot:
        """Lay out now what :meth:`servable` and :meth:`place_miss` would lay out on first
        use, so no request pays for it (a fraction of a second at a million postings)."""
        _ = self._rows_by_card, self._place_counts, self.index.title_mass
        return self

    @cached_property
    def _row_cards(self) -> tuple[np.ndarray, np.ndarray]:
        """The card number of every (industry, posting) row of the index and the industry
        (index position) of each row; laid out once per snapshot.

        Cards and index are built from the same records in the same order, so a card's number
        is the posting's vacancy number; a few ids are checked, and a snapshot assembled
        otherwise is mapped through the ids (seconds at a million postings)."""
        start, numbers = self.index.industry_rows()
        segment = np.repeat(np.arange(len(start) - 1), np.diff(start))
        n = len(self.cards)
        probe = {0, n // 2, n - 1} if n else set()
        if (
            len(self.index.sizes)
            and n == self.index.n_postings
            and all(self.cards.id_at(i) == self.index.id_of(i) for i in probe)
        ):
            return numbers, segment
        ids = [self.index.id_of(int(v)) for v in numbers]
        return self.cards.numbers_of(ids), segment

    @cached_property
    def _rows_by_card(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`_row_cards` sorted by card number, to find a few cards' rows by bisection."""
        cards, segment = self._row_cards
        order = np.argsort(cards, kind="stable")
        return order, cards[order], segment

    @cached_property
    def _place_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per action: its office postings in each area [n_actions, n_areas], its remote
        postings and all its postings [n_actions]; counted once per snapshot."""
        start = self.index.industry_starts
        cards, segment = self._row_cards  # every row has a card (see _row_cards)
        n_areas = max(len(self.cards.area_names), 1)
        remote_of = self.cards.remote[cards]
        area_of = self.cards.area_code[cards]
        office = ~remote_of & (area_of >= 0)
        by_industry = np.zeros((len(start) - 1, n_areas))
        np.add.at(by_industry, (segment[office], area_of[office]), 1.0)
        remote = np.bincount(segment[remote_of], minlength=len(start) - 1).astype(np.float64)
        rows = np.maximum(self._action_rows, 0)
        missing = self._action_rows < 0
        office_in = np.where(missing[:, None], 0.0, by_industry[rows])
        sizes = np.where(missing, 0.0, self.index.sizes[rows].astype(np.float64))
        return office_in, np.where(missing, 0.0, remote[rows]), sizes

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
