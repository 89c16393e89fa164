"""An immutable, fully built view of one catalog version, and a holder that swaps it.

Serving reads ``SnapshotHolder.current`` for every request. A background
thread notices a new catalog version, builds the next snapshot off the
request path and replaces the reference in one assignment, so a reader sees
either the old snapshot or the new one, never a half-built index. A failed
build is logged and the old snapshot keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Engine

from vacrec.catalog.text import cut_at_word
from vacrec.polling import Poller
from vacrec.ranking.index import IndexDocument, Match, Ranked, TfidfIndex
from vacrec.store.catalog import CatalogRecord, current_catalog_version, read_catalog_records
from vacrec.store.db import read_transaction

log = logging.getLogger(__name__)

SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Card:
    """What a job seeker sees of one vacancy."""

    id: str
    name: str
    company: str | None
    salary: int | None
    url: str | None
    logo: str | None
    snippet: str
    description: str
    published_at: datetime | None = None


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of ``text``, cut at a word boundary, with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return cut_at_word(flat, limit, min_keep=limit // 2).rstrip(" ,.;:—-") + "…"


class CatalogSnapshot:
    """Cards, the action list and the ranking index of one catalog version."""

    def __init__(
        self,
        version: int | None,
        actions: tuple[str, ...],
        cards: dict[str, Card],
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
    ) -> CatalogSnapshot:
        """Build cards and the index; ``actions`` defaults to the records' sorted groups."""
        cards: dict[str, Card] = {}
        documents: list[IndexDocument] = []
        groups: set[str] = set()
        for r in records:
            cards[r.id] = Card(
                id=r.id,
                name=r.name,
                company=r.company,
                salary=r.salary,
                url=r.url,
                logo=r.logo,
                snippet=snippet(r.description),
                description=r.description,
                published_at=r.published_at,
            )
            documents.append(
                IndexDocument(r.id, r.description, r.industries, r.published_at, name=r.name)
            )
            groups.update(r.industries)
        index = TfidfIndex.build(documents)
        return cls(version, actions if actions is not None else tuple(sorted(groups)), cards, index)

    @classmethod
    def empty(cls) -> CatalogSnapshot:
        return cls(None, (), {}, TfidfIndex.build([]))

    def top_k(self, industry: str, preference: str, k: int) -> Ranked:
        """The k vacancies of ``industry`` that best match ``preference`` (see :class:`Ranked`)."""
        return self.index.top_k(industry, preference, k)

    def match(self, text: str) -> Match:
        """Match ``text`` once; gives every industry's features and any industry's top k."""
        return self.index.match(text)

    def features_of(self, match: Match) -> np.ndarray:
        """``MATCH_FEATURES`` of every action, in :attr:`actions` order: [n_actions, 3]."""
        features = match.features()
        out = features[np.maximum(self._action_rows, 0)]
        out[self._action_rows < 0] = 0.0
        return out

    def match_features(self, text: str) -> np.ndarray:
        """``MATCH_FEATURES`` of ``text`` for every action (the agent's content features)."""
        return self.features_of(self.match(text))

    def industry_sizes(self) -> np.ndarray:
        """Vacancies per action."""
        sizes = self.index.sizes[np.maximum(self._action_rows, 0)]
        return np.where(self._action_rows < 0, 0, sizes)


def load_snapshot(engine: Engine) -> CatalogSnapshot:
    """Read the current catalog in one transaction and build its snapshot."""
    version, actions, records = read_catalog_records(engine)
    return CatalogSnapshot.from_records(version, records, actions=actions)


class SnapshotHolder:
    """Holds the serving snapshot and replaces it when the catalog version changes."""

    def __init__(
        self, engine: Engine, poll_s: float, initial: CatalogSnapshot | None = None
    ) -> None:
        self._engine = engine
        self._current = initial if initial is not None else load_snapshot(engine)
        self._refresh_lock = threading.Lock()
        self._poller = Poller(
            "catalog snapshot",
            poll_s,
            self.refresh_if_changed,
            keeping=lambda: f"catalog version {self._current.version}",
        )

    @property
    def current(self) -> CatalogSnapshot:
        """The latest fully built snapshot (one reference read: always consistent)."""
        return self._current

    def refresh_if_changed(self) -> bool:
        """Rebuild and swap when the store's catalog version differs; True if swapped."""
        with self._refresh_lock:
            with read_transaction(self._engine) as conn:
                version = current_catalog_version(conn)
            if version == self._current.version:
                return False
            fresh = load_snapshot(self._engine)
            self._current = fresh
            log.info("catalog snapshot swapped to version %s", fresh.version)
            return True

    def start(self) -> None:
        """Poll in the background every ``poll_s`` seconds."""
        self._poller.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling and wait for the thread."""
        self._poller.stop(timeout)
