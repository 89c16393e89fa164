"""Where a process's catalog snapshot comes from, and the holder that swaps it.

Serving reads ``SnapshotHolder.current`` for every request. A background
thread notices a new catalog version, builds the next snapshot off the
request path and replaces the reference in one assignment, so a reader sees
either the old snapshot or the new one, never a half-built index. A failed
build is logged and the old snapshot keeps serving.

:func:`load_snapshot` memory-maps the one saved for the current catalog version
(``vacrec.ranking.saved``); only the first process to need a version builds it,
under a lock, and saves it for the others.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from sqlalchemy import Connection, Engine

from vacrec.app import term_vectors
from vacrec.app.holders import StampedHolder
from vacrec.config import Settings
from vacrec.ranking.saved import SavedSnapshots, code_fingerprint
from vacrec.ranking.snapshot import BuildOptions, CatalogSnapshot, build_options
from vacrec.store.catalog import (
    catalog_identity,
    catalog_industries,
    current_catalog_version,
    stream_catalog_records,
)
from vacrec.store.db import may_idle_while_computing, read_transaction

__all__ = [
    "SnapshotHolder",
    "build_lock",
    "default_cache_folder",
    "load_snapshot",
    "reserve_build",
]

log = logging.getLogger(__name__)


def default_cache_folder(engine: Engine) -> Path | None:
    """Where saved snapshots live: beside the SQLite file, else under ``VACREC_HOME``; None for
    an in-memory database (one process, nothing to share)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            return None
        return Path(database).resolve().parent / "snapshots"
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
        with term_vectors.kept_in(_term_vector_folder(None)):
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
                with term_vectors.kept_in(_term_vector_folder(saved.folder)):
                    built, built_identity = _build(engine, options, spill_folder=saved.folder)
                if built_identity != identity:  # the catalog moved on meanwhile: serve it
                    return built
                built_manifest = {**expected, "actions": list(built.actions)}
                saved.save(key, built_manifest, built.index, built.cards)
                log.info("built and saved the snapshot of catalog version %s", version)
                del built
                loaded = saved.load(key, expected)
                if loaded is None:
                    raise RuntimeError(f"the snapshot just saved in {folder / key} is unreadable")
    manifest, index, cards = loaded
    return CatalogSnapshot(version, tuple(manifest["actions"]), cards, index)


def _term_vector_folder(snapshot_folder: Path | None) -> Path | None:
    """Where builds keep the encoder's term vectors: the setting, else beside the snapshots."""
    return Settings().term_vector_folder or snapshot_folder


def build_lock(engine: Engine, identity: dict[str, Any]) -> FileLock | None:
    """The lock under which the snapshot of the catalog version ``identity`` is built and
    saved (None without a cache folder). An ingest takes it before committing the version,
    so a server that notices the version waits for the ingest's build and maps it, instead
    of racing to build it itself on the cores that serve."""
    folder = default_cache_folder(engine)
    if folder is None:
        return None
    saved = SavedSnapshots(folder)
    return saved.lock(saved.key(identity, build_options(int(identity["vacancies"]))))


def reserve_build(conn: Connection, version: int, stack: ExitStack) -> None:
    """Take the build lock of ``version``'s snapshot into ``stack``, inside the transaction
    that makes ``version`` current and before it commits (free then: nobody knows the
    version yet), so servers wait to map what the caller builds next. Every writer of a
    catalog version (``vacrec ingest``, a refresh) reserves through here; a lock that cannot
    be had only costs the race it avoids, never the write."""
    try:
        lock = build_lock(conn.engine, catalog_identity(conn, version))
        if lock is not None:
            lock.acquire(timeout=0)
            stack.callback(lock.release)
    except (OSError, FileLockTimeout) as error:
        log.warning("the snapshot build of catalog version %s is not reserved: %s", version, error)


def _build(
    engine: Engine,
    options: BuildOptions | None = None,
    spill_folder: Path | None = None,
) -> tuple[CatalogSnapshot, dict[str, Any] | None]:
    """Build the current catalog's snapshot while streaming its rows, all in one read
    transaction (one consistent version; no vacancy is held longer than it takes to add)."""
    with read_transaction(engine) as conn:
        may_idle_while_computing(conn)
        version = current_catalog_version(conn)
        actions = tuple(catalog_industries(conn))
        snapshot = CatalogSnapshot.from_records(
            version,
            stream_catalog_records(conn),
            actions=actions,
            spill_folder=spill_folder,
            **(options or BuildOptions(min_df=1, max_terms=None)),
        )
        identity = catalog_identity(conn, version) if version is not None else None
    return snapshot, identity


class SnapshotHolder(StampedHolder[CatalogSnapshot, int | None]):
    """Holds the serving snapshot and replaces it when the catalog version changes."""

    load_on_start = False  # loaded when made: a process serves nothing without it

    def __init__(
        self, engine: Engine, poll_s: float, initial: CatalogSnapshot | None = None
    ) -> None:
        snapshot = initial if initial is not None else load_snapshot(engine).prepare_serving()
        super().__init__(
            engine,
            snapshot,
            snapshot.version,
            "catalog snapshot",
            poll_s,
            "the catalog snapshot",
            lambda: f"catalog version {self.current.version}",
        )

    def read_stamp(self, conn: Connection) -> int | None:
        return current_catalog_version(conn)

    def load(self, stamp: int | None) -> tuple[CatalogSnapshot, int | None]:
        """Rebuild (or load the saved) snapshot of the store's catalog now."""
        fresh = load_snapshot(self._engine).prepare_serving()
        log.info("catalog snapshot swapped to version %s", fresh.version)
        return fresh, fresh.version
