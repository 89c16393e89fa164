"""An immutable, fully built view of one catalog version, and a holder that swaps it.

Serving reads ``SnapshotHolder.current`` for every request. A background
thread notices a new catalog version, builds the next snapshot off the
request path and replaces the reference in one assignment, so a reader sees
either the old snapshot or the new one, never a half-built index. A failed
build is logged and the old snapshot keeps serving.

A snapshot is columns and arrays, no Python object per vacancy (see
``cards.py`` and ``index.py``). :func:`load_snapshot` memory-maps the one saved
for the current catalog version (``saved.py``); only the first process to need
a version builds it, under a lock, and saves it for the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from vacrec.polling import Poller
from vacrec.ranking.cards import SNIPPET_CHARS, Card, CardTable, ColumnBuilder, snippet
from vacrec.ranking.index import IndexDocument, Match, Ranked, TfidfIndex
from vacrec.ranking.saved import SavedSnapshots, code_fingerprint
from vacrec.store.catalog import (
    CatalogRecord,
    catalog_identity,
    catalog_industries,
    current_catalog_version,
    stream_catalog_records,
)
from vacrec.store.db import read_transaction

__all__ = [  # Card and snippet moved to cards.py; callers import them from here
    "SNIPPET_CHARS",
    "Card",
    "CatalogRecord",
    "CatalogSnapshot",
    "SnapshotHolder",
    "load_snapshot",
    "snippet",
]

log = logging.getLogger(__name__)


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
    ) -> CatalogSnapshot:
        """Build cards and the index, reading ``records`` once (they may be streamed);
        ``actions`` defaults to the records' sorted groups. See :meth:`TfidfIndex.build` for
        ``min_df`` and ``max_terms``; big text columns are written to ``spill_folder`` (see
        :class:`ColumnBuilder`)."""
        columns = ColumnBuilder(folder=spill_folder)

        def documents() -> Iterator[IndexDocument]:
            for r in records:
                columns.add_record(r)
                yield IndexDocument(r.id, r.description, r.industries, r.published_at, r.name)

        index = TfidfIndex.build(documents(), min_df=min_df, max_terms=max_terms)
        cards = CardTable(columns.arrays())
        return cls(version, actions if actions is not None else index.industries, cards, index)

    @classmethod
    def empty(cls) -> CatalogSnapshot:
        return cls(None, (), CardTable.empty(), TfidfIndex.build([]))

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


PRUNE_FROM = 50_000
"""From this many vacancies on, the serving index drops stems found in a single posting: there
they are mostly typos and one-off names, and the vocabulary is what grows with the catalog.
Smaller catalogs keep every stem (one posting's rare word is then a fair signal)."""
MAX_TERMS = 500_000
"""At most this many stems (the most frequent) in a serving index."""


def build_options(vacancies: int) -> dict[str, int | None]:
    """``min_df`` and ``max_terms`` of the serving index of a catalog this large."""
    return {"min_df": 2 if vacancies >= PRUNE_FROM else 1, "max_terms": MAX_TERMS}


def default_cache_folder(engine: Engine) -> Path | None:
    """Where saved snapshots live: beside the SQLite file, else under ``VACREC_HOME``; None for
    an in-memory database (one process, nothing to share)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            return None
        return Path(database).resolve().parent / "snapshots"
    from vacrec.config import Settings

    return Path(Settings().home).resolve() / "snapshots"


def load_snapshot(engine: Engine, cache_folder: Path | None = None) -> CatalogSnapshot:
    """The current catalog's snapshot: memory-mapped from its saved files when they are sound,
    else built (by one process at a time per folder, under a file lock) and saved first.

    ``cache_folder`` defaults to :func:`default_cache_folder`.
    """
    folder = cache_folder if cache_folder is not None else default_cache_folder(engine)
    with read_transaction(engine) as conn:
        version = current_catalog_version(conn)
        identity = catalog_identity(conn, version) if version is not None else None
    if folder is None or identity is None:
        return _build(engine)[0]
    saved = SavedSnapshots(folder)
    options = build_options(int(identity["vacancies"]))
    key = saved.key(identity, options)
    expected = {"identity": identity, "options": options, "code": code_fingerprint()}
    loaded = saved.load(key, expected)
    if loaded is None:
        with saved.lock(key):
            loaded = saved.load(key, expected)  # built while we waited?
            if loaded is None:
                built, built_identity = _build(engine, options, spill_folder=saved.folder)
                if built_identity != identity:  # the catalog moved on meanwhile: serve it
                    return built
                manifest = {**expected, "actions": list(built.actions)}
                saved.save(key, manifest, built.index, built.cards)
                log.info("built and saved the snapshot of catalog version %s", version)
                del built
                loaded = saved.load(key, expected)
                if loaded is None:
                    raise RuntimeError(f"the snapshot just saved in {folder / key} is unreadable")
    manifest, index, cards = loaded
    return CatalogSnapshot(version, tuple(manifest["actions"]), cards, index)


def _build(
    engine: Engine,
    options: dict[str, int | None] | None = None,
    spill_folder: Path | None = None,
) -> tuple[CatalogSnapshot, dict[str, Any] | None]:
    """Build the current catalog's snapshot while streaming its rows, all in one read
    transaction (one consistent version; no vacancy is held longer than it takes to add)."""
    with read_transaction(engine) as conn:
        version = current_catalog_version(conn)
        actions = tuple(catalog_industries(conn))
        snapshot = CatalogSnapshot.from_records(
            version,
            stream_catalog_records(conn),
            actions=actions,
            spill_folder=spill_folder,
            **(options or {}),
        )
        identity = catalog_identity(conn, version) if version is not None else None
    return snapshot, identity


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
