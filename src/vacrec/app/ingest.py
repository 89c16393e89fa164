"""Ingest: read catalog files in batches, infer missing industries, upsert into the store,
then build the serving snapshot of the new catalog version.

Files are streamed: a batch of rows is read, deduplicated, compared with the
store and staged before the next is read, so memory does not grow with the
file (only the ids and description digests seen so far are kept, ~200 bytes a
vacancy, to drop duplicates across batches). Each batch is staged in its own
short transaction into temporary tables of the ingest's connection, which on
SQLite take no lock a serving worker's write waits for; industries are inferred
on the staged rows (learning from the labelled rows stored and staged). Then,
under the ingest lock, the new vacancies are written into the store a page per
short transaction under a catalog version not yet published (no reader sees
them: ``store/visibility.py``), and one small transaction replaces the changed
ones, retires, deletes and publishes the version: SQLite's write lock is never
held for the whole catalog, and readers see all of it or none. A failure or a
kill at any point leaves the served catalog as it was (rows written unpublished
are deleted by the next ingest or a server's start), and a call that changes
nothing creates no version, which makes re-ingesting idempotent.
An empty store gets the bundled demo
catalog (:func:`ensure_catalog`), which the first real ingest replaces.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine

from vacrec.app.snapshots import load_snapshot, reserve_build
from vacrec.catalog.industry import fit_with_accuracy
from vacrec.catalog.readers import CatalogStream, Rejection, open_catalog
from vacrec.catalog.schema import Vacancy, content_hash
from vacrec.store import vacancies as sql
from vacrec.store.catalog import current_catalog_version
from vacrec.store.db import utcnow, with_write_lock, without_write_lock
from vacrec.store.locks import LockTimeout, ingest_lock

log = logging.getLogger(__name__)

BATCH_SIZE = 2_000
"""Vacancies read and written at a time (~25 KB each while in flight)."""
HIDDEN_BATCH = 500
"""New vacancies written unpublished per transaction: ~0.1 s of SQLite's write lock on 2
shared cores, well inside the 2.4 s a serving write waits for it."""
WRITE_PAUSE_MIN_S = 0.1
"""SQLite: the least pause after each of the ingest's short write transactions (and at least
as long as the transaction held the lock). SQLite's busy wait polls, sleeping up to 100 ms
between tries: back-to-back transactions left a serving write no gap to find, delaying it
up to 2.7 s (one slice of a benchmark run), near the 2.4 s after which it is a 503."""
INGEST_LOCK_WAIT_S = 300.0
"""How long an ingest waits for another's publishing (its unpublished writes and commit)."""
TRAINING_SAMPLE = 20_000
"""Most labelled vacancies the industry classifier learns from (a seeded uniform sample)."""
MAX_REPORTED_REJECTIONS = 1_000
"""Rejections listed in the report; ``rejected`` counts them all."""
DEMO_SOURCE = "demo catalog"
"""The source recorded for the bundled demo catalog, which a first real ingest replaces."""
DEMO_PACKAGE, DEMO_PATH = "vacrec.catalog", "demo/vacancies.jsonl"
_SEED = 0

T = TypeVar("T")


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest is, for a progress display with rate and ETA."""

    stage: str
    read: int
    done_bytes: int
    total_bytes: int


Progress = Callable[[IngestProgress], None]


@dataclass
class IngestReport:
    """What one ingest call read and changed (the JSON of ``vacrec ingest``)."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped_duplicates: int = 0
    rejected: int = 0
    industries: int = 0
    vacancies: int = 0
    inferred: int = 0
    inference_accuracy: float | None = None
    retired: int = 0  # stored postings hh.ru now reports archived (no longer served)
    revived: int = 0  # retired postings read again, open: served again
    catalog_version: int | None = None
    replaced_demo: bool = False  # the store held only the demo catalog, now gone
    # wall seconds of each stage: "staging" (reading and staging), "inferring", and
    # "publishing" (the unpublished writes, short transactions, and the one that publishes)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rejections: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return asdict(self)


def ingest_paths(
    engine: Engine,
    paths: Sequence[Path],
    *,
    replace: bool = False,
    source: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    reserve_snapshot: ExitStack | None = None,
) -> IngestReport:
    """Load ``paths`` into the store; ``replace`` also deletes vacancies not in them.

    A store that holds only the bundled demo catalog is replaced by the first real
    ingest: its example postings (dead example.org links) must not mix with real ones.
    With ``reserve_snapshot``, the new version's snapshot build lock is taken before the
    version commits and left held in that stack: the caller then builds it
    (:func:`save_serving_snapshot`) while servers wait to map it.
    """
    streams = [open_catalog(Path(p)) for p in paths]  # refuse a non-catalog before writing
    report = IngestReport()
    source = source or ", ".join(p.name for p in paths)
    with engine.connect() as conn:
        without_write_lock(conn)  # staging: short transactions, no lock serving waits for
        with conn.begin():
            staging = sql.Staging.create(conn)
            report.replaced_demo = source != DEMO_SOURCE and sql.holds_only(conn, DEMO_SOURCE)
        try:
            _stage_and_publish(conn, staging, streams, source, report, progress, batch_size,
                               replace=replace or report.replaced_demo,
                               reserve_snapshot=reserve_snapshot)  # fmt: skip
        except BaseException:
            conn.invalidate()  # its staging tables go with it, whatever state it is in
            raise
        without_write_lock(conn)
        with conn.begin():
            staging.drop(conn)
    return report


def _stage_and_publish(
    conn: Connection,
    staging: sql.Staging,
    streams: list[CatalogStream],
    source: str,
    report: IngestReport,
    progress: Progress | None,
    batch_size: int,
    *,
    replace: bool,
    reserve_snapshot: ExitStack | None = None,
) -> None:
    """Stage every batch (each its own short transaction), infer industries on the staged
    rows, then publish them, and with ``replace`` delete what the files lack, in one."""
    writer = _Writer(conn, staging, source, report)
    seen = _Seen()
    reading = _Reading(streams, report, progress)
    clock = _StageClock(report)
    for batch in _batches(reading.vacancies(), batch_size):
        unique = [v for v in batch if seen.first(v)]
        report.skipped_duplicates += len(batch) - len(unique)
        with conn.begin():
            writer.stage(unique)
        reading.note("reading")
    clock.lap("staging")
    if writer.unlabelled:
        reading.note("inferring missing industries")
        writer.infer_industries(seen.ids if replace else None)
        clock.lap("inferring")
    reading.note("publishing")
    with ingest_lock(conn.engine, INGEST_LOCK_WAIT_S):
        _discard_unpublished(conn)
        without_write_lock(conn)
        with conn.begin():  # reads the store, writes only the staging tables
            writer.drop_unchanged()
        with_write_lock(conn)
        writer.touch_seen()
        while True:  # the new vacancies, unpublished, a short transaction each
            started = time.perf_counter()
            with conn.begin():
                if not writer.hide_new(min(batch_size, HIDDEN_BATCH)):
                    break
            let_writers_in(conn, time.perf_counter() - started)
            reading.note("publishing")
        with conn.begin():  # the one that makes the new catalog visible: small
            writer.publish()
            if replace:
                reading.note("removing vacancies absent from the files")
                writer.delete_stale(seen.ids)
            writer.finish()
            if reserve_snapshot is not None and writer.version is not None:
                reserve_build(conn, writer.version, reserve_snapshot)
    clock.lap("publishing")


def let_writers_in(conn: Connection, held_s: float) -> None:
    """On SQLite, pause after a write transaction that held the lock ``held_s`` seconds, so
    the serving writes polling for it get their turn (see :data:`WRITE_PAUSE_MIN_S`);
    PostgreSQL queues lock waiters and needs no pause."""
    if conn.dialect.name == "sqlite":
        time.sleep(max(WRITE_PAUSE_MIN_S, held_s))


def discard_unpublished(engine: Engine) -> int:
    """Delete what a crashed ingest wrote unpublished (a server's start calls it); skipped
    while an ingest holds the lock, since then the rows may be that ingest's. How many."""
    try:
        with ingest_lock(engine, 0), engine.connect() as conn:
            return _discard_unpublished(conn)
    except LockTimeout:
        return 0


def _discard_unpublished(conn: Connection) -> int:
    """Delete the vacancies of unpublished versions a page per transaction, then the versions
    (call under the ingest lock: any such rows are a crashed ingest's). How many vacancies."""
    with_write_lock(conn)
    deleted = 0
    while True:
        started = time.perf_counter()
        with conn.begin():
            page = sql.unpublished_id_page(conn)
            if not page:
                versions = sql.delete_unpublished_versions(conn)
                break
            sql.delete_vacancies(conn, page)
        let_writers_in(conn, time.perf_counter() - started)
        deleted += len(page)
    if versions:
        log.warning(
            "deleted %s vacancies of %s catalog versions an interrupted ingest left unpublished",
            deleted,
            versions,
        )
    return deleted


def ensure_catalog(engine: Engine) -> None:
    """An empty store gets the bundled demo catalog, so a first run has something to serve;
    what an interrupted ingest left unpublished is deleted (run at a server's start)."""
    discard_unpublished(engine)
    with engine.connect() as conn:
        if current_catalog_version(conn) is not None:
            return
    demo = resources.files(DEMO_PACKAGE).joinpath(DEMO_PATH)
    with resources.as_file(demo) as path:
        report = ingest_paths(engine, [path], source=DEMO_SOURCE)
    if report.catalog_version is None:  # a replica starting beside us loaded it first
        log.info("empty catalog: another process loaded the demo catalog meanwhile")
        return
    log.info("empty catalog: loaded the demo catalog (%s vacancies)", report.inserted)


def save_serving_snapshot(engine: Engine) -> float:
    """Build and save the new catalog version's serving snapshot here, so servers usually
    only memory-map it: a server that builds a million-vacancy snapshot itself holds the
    build's memory on top of what it serves. Returns the seconds it took; raises OSError,
    MemoryError or RuntimeError when the build failed (the ingest is committed either way,
    and a server then builds it)."""
    started = time.perf_counter()
    load_snapshot(engine)
    return round(time.perf_counter() - started, 2)


class _StageClock:
    """Records the wall seconds of each stage in the report, one lap at a time."""

    def __init__(self, report: IngestReport) -> None:
        self.report = report
        self.started = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.report.stage_seconds[stage] = round(now - self.started, 2)
        self.started = now


class _Seen:
    """The ids and description digests kept so far, to drop duplicates across batches.

    A description is kept as a 128-bit digest (an int, not the text): a false
    match needs ~10^19 vacancies. Ids are kept exactly, as ``--replace`` needs them.
    """

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.descriptions: set[int] = set()

    def first(self, vacancy: Vacancy) -> bool:
        """True (and remembered) when neither the id nor the description was met before."""
        digest = hashlib.blake2b(vacancy.description.encode(), digest_size=16).digest()
        key = int.from_bytes(digest)
        if vacancy.id in self.ids or key in self.descriptions:
            return False
        self.ids.add(vacancy.id)
        self.descriptions.add(key)
        return True


class _Reading:
    """Vacancies from every file in order, counting rows and rejections, reporting progress."""

    def __init__(
        self, streams: list[CatalogStream], report: IngestReport, progress: Progress | None
    ) -> None:
        self.streams = streams
        self.report = report
        self.progress = progress
        self.total_bytes = sum(s.size for s in streams)
        self.finished_bytes = 0
        self.current: CatalogStream | None = None

    def vacancies(self) -> Iterator[Vacancy]:
        for stream in self.streams:
            self.current = stream
            for item in stream:
                self.report.read += 1
                if isinstance(item, Rejection):
                    self.report.rejected += 1
                    if len(self.report.rejections) < MAX_REPORTED_REJECTIONS:
                        self.report.rejections.append(_rejection_dict(item))
                else:
                    yield item
            self.finished_bytes += stream.size
            self.current = None

    def note(self, stage: str) -> None:
        if self.progress is None:
            return
        done = self.finished_bytes + (self.current.done_bytes if self.current else 0)
        self.progress(IngestProgress(stage, self.report.read, done, self.total_bytes))


class _Writer:
    """Stages batches of new and changed vacancies, then publishes them as a new catalog
    version (created only when something changes)."""

    def __init__(
        self, conn: Connection, staging: sql.Staging, source: str, report: IngestReport
    ) -> None:
        self.conn = conn
        self.staging = staging
        self.source = source
        self.report = report
        self.version: int | None = None
        self.published = False
        self.unlabelled = 0
        self.seen_at = utcnow()
        self.seen_open: list[str] = []  # unchanged postings read open / archived
        self.seen_archived: list[str] = []

    def stage(self, batch: list[Vacancy]) -> None:
        """Stage the new vacancies of ``batch`` and the changed ones, count the rest.

        Everything read counts as seen now (the clock retirement runs on): the unchanged
        ones are remembered by id and marked when publishing, where an archived one is
        retired and a retired one read again open serves again.
        """
        hashes = {v.id: content_hash(v) for v in batch}
        existing = sql.existing_hashes(self.conn, list(hashes))
        new = [v for v in batch if v.id not in existing]
        changed = [v for v in batch if v.id in existing and existing[v.id] != hashes[v.id]]
        unchanged = [v for v in batch if v.id in existing and existing[v.id] == hashes[v.id]]
        self.report.unchanged += len(unchanged)
        self.seen_open += [v.id for v in unchanged if not v.archived]
        self.seen_archived += [v.id for v in unchanged if v.archived]
        if not (new or changed):
            return
        self.report.retired += sum(v.archived for v in changed)
        sql.insert_vacancies(self.conn, new + changed, hashes, 0, self.seen_at, self.staging)
        self.report.inserted += len(new)
        self.report.updated += len(changed)
        self.unlabelled += sum(not v.industries for v in new + changed)

    def drop_unchanged(self) -> None:
        """Forget what another ingest published since this one staged it: it is no longer new
        (count and publish only what still differs; under the ingest lock)."""
        staged = self.report.inserted + self.report.updated
        self.report.inserted, self.report.updated = sql.drop_staged_unchanged(
            self.conn, self.staging
        )
        self.report.unchanged += staged - self.report.inserted - self.report.updated

    def touch_seen(self) -> None:
        """Mark the unchanged postings read now, a page per transaction (serving is the same)."""
        ids = [*self.seen_open, *self.seen_archived]
        for start in range(0, len(ids), HIDDEN_BATCH):
            began = time.perf_counter()
            with self.conn.begin():
                sql.touch_seen(self.conn, ids[start : start + HIDDEN_BATCH], self.seen_at)
            let_writers_in(self.conn, time.perf_counter() - began)

    def hide_new(self, limit: int) -> int:
        """Write up to ``limit`` staged new vacancies into the store under the new version, not
        yet published; how many (0: none left)."""
        if self.report.inserted == 0:
            return 0
        return sql.hide_new(self.conn, self.staging, self._version(published=False), limit)

    def publish(self) -> None:
        """Retire and revive what was read again, replace the changed vacancies still staged,
        and publish the new version (none if nothing served changes)."""
        retired, revived = sql.retire_or_revive(
            self.conn, self.seen_open, self.seen_archived, self.seen_at
        )
        self.report.retired += retired
        self.report.revived += revived
        if retired or revived:
            self._version()
        if self.staging.count(self.conn):
            sql.publish(self.conn, self.staging, self._version())
        if self.version is not None and not self.published:
            sql.publish_version(self.conn, self.version)
            self.published = True

    def delete_stale(self, keep: set[str]) -> None:
        """Delete the stored vacancies whose ids are not in ``keep``, a page at a time."""
        for page in sql.stored_id_pages(self.conn):
            stale = [i for i in page if i not in keep]
            if stale:
                self._version()
                sql.delete_vacancies(self.conn, stale)
                self.report.deleted += len(stale)

    def infer_industries(self, keep: set[str] | None) -> None:
        """Give each staged vacancy without a group the classifier's best guess, flagged.

        The classifier learns from labelled source rows (never earlier guesses), at most
        :data:`TRAINING_SAMPLE` of them: the staged ones and the stored ones they do not
        replace (with ``keep``, only stored ones whose ids are in it: a replacing ingest
        does not learn from what it deletes).
        """
        with self.conn.begin():
            texts, labels = _training_sample(self.conn, self.staging, keep)
        if len({g for groups in labels for g in groups}) < 2:
            return
        classifier, accuracy = fit_with_accuracy(texts, labels)
        self.report.inference_accuracy = None if accuracy is None else round(accuracy, 4)
        del texts, labels
        with self.conn.begin():
            for documents in sql.unlabelled_pages(self.conn, self.staging):
                guesses = classifier.predict([f"{r.name}. {r.description}" for r in documents])
                sql.label_vacancies(
                    self.conn,
                    self.staging,
                    [
                        (r.id, g.industry, round(g.confidence, 4))
                        for r, g in zip(documents, guesses, strict=True)
                    ],
                )
                self.report.inferred += len(documents)

    def finish(self) -> None:
        """Record the counts on the new version (if any) and in the report."""
        conn, report = self.conn, self.report
        report.vacancies, report.industries = sql.catalog_counts(conn)
        if self.version is None:
            return
        sql.record_version_counts(
            conn,
            self.version,
            inserted=report.inserted,
            updated=report.updated,
            vacancies_now=report.vacancies,
        )
        report.catalog_version = self.version

    def _version(self, *, published: bool = True) -> int:
        """The new version, opened on first need: unpublished when its first rows are written
        before the transaction that publishes it, else published at once."""
        if self.version is None:
            self.version = sql.new_catalog_version(self.conn, self.source, published=published)
            self.published = published
        return self.version


def drop_duplicates(items: Sequence[Vacancy]) -> tuple[list[Vacancy], int]:
    """Keep the first vacancy of each description and of each id; count the rest."""
    seen_ids: set[str] = set()
    seen_descriptions: set[str] = set()
    kept: list[Vacancy] = []
    for vacancy in items:
        if vacancy.id in seen_ids or vacancy.description in seen_descriptions:
            continue
        seen_ids.add(vacancy.id)
        seen_descriptions.add(vacancy.description)
        kept.append(vacancy)
    return kept, len(items) - len(kept)


def _rejection_dict(rejection: Rejection) -> dict[str, object]:
    return {"source": rejection.source, "row": rejection.row, "reason": rejection.reason}


def _training_sample(
    conn: Connection, staging: sql.Staging, keep: set[str] | None
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Labelled source rows (never guesses), stored and staged: all of them, or a seeded
    uniform sample of :data:`TRAINING_SAMPLE` (reservoir sampling, one page at a time)."""
    rng = random.Random(_SEED)
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    stored = sql.labelled_examples(conn, staging)
    if keep is not None:
        stored = (e for e in stored if e[0] in keep)
    staged = sql.labelled_examples(conn, staging, staged=True)
    for seen, (_id, text, groups) in enumerate(itertools.chain(stored, staged)):
        if seen < TRAINING_SAMPLE:
            texts.append(text)
            labels.append(groups)
        elif (slot := rng.randrange(seen + 1)) < TRAINING_SAMPLE:
            texts[slot], labels[slot] = text, groups
    return texts, labels


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
