"""An ingest stages its batches in short transactions of their own, writes the new rows
unpublished in short transactions too and publishes them in one small one: serving writes
go on meanwhile (even with a short busy timeout), and nothing of the new catalog is visible
until the whole of it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.catalog.factories import normalised, write_jsonl
from vacrec.app.ingest import IngestProgress, discard_unpublished, ensure_catalog, ingest_paths
from vacrec.store.catalog import current_catalog_version, read_catalog_records
from vacrec.store.db import DbTimeouts, commit_heartbeat, make_engine, read_transaction
from vacrec.store.locks import ingest_lock
from vacrec.store.tables import vacancies
from vacrec.store.vacancies import catalog_counts

IT = "Информационные технологии, интернет, телеком"


def _stored(engine: Engine) -> tuple[int, int | None]:
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(vacancies)).scalar_one()
        return count, current_catalog_version(conn)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_serving_writes_go_on_while_an_ingest_stages_its_batches(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(5)])])
    # A serving engine that waits at most 0.1 s for a lock: before, the ingest held the
    # write lock from its first batch to its end and this write failed "locked".
    serving = make_engine(database_url, DbTimeouts(lock_s=0.1))
    seen: list[tuple[int, int | None]] = []

    def beside(progress: IngestProgress) -> None:
        if progress.stage in ("reading", "inferring missing industries"):
            commit_heartbeat(serving, "serving")
            seen.append(_stored(serving))

    rows = [normalised(i, [] if i % 3 else [IT]) for i in range(5, 45)]  # some to infer
    report = ingest_paths(
        engine, [write_jsonl(tmp_path / "b.jsonl", rows)], batch_size=4, progress=beside
    )
    assert len(seen) >= 10  # ten batches, each its own transaction, a write between each
    assert set(seen) == {(5, 1)}  # the old catalog whole until the new one is published
    assert report.inserted == 40 and report.inferred > 0
    assert _stored(engine) == (45, 2)
    serving.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_staging_leaves_nothing_behind_on_the_pooled_connection(
    engine: Engine, tmp_path: Path
) -> None:
    """Temporary tables live as long as their connection, which the pool keeps."""
    for name in ("a", "b"):
        rows = [normalised(i) for i in range(3)] if name == "a" else [normalised(9)]
        ingest_paths(engine, [write_jsonl(tmp_path / f"{name}.jsonl", rows)])
    with engine.connect() as conn:
        temp = conn.exec_driver_sql("SELECT name FROM sqlite_temp_master").scalars().all()
    assert temp == []
    assert _stored(engine) == (4, 2)


def _served(engine: Engine) -> tuple[int, int | None]:
    """What a reader sees: served vacancies and the current version."""
    with read_transaction(engine) as conn:
        return catalog_counts(conn)[0], current_catalog_version(conn)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_an_ingest_publishes_in_short_transactions_that_no_reader_sees(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """The new rows are written a few per transaction before the version is published: a
    serving write with a 0.1 s busy timeout commits between each, and readers see the old
    catalog whole until one small transaction shows the new one whole."""
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(5)])])
    serving = make_engine(database_url, DbTimeouts(lock_s=0.1))
    stored: list[int] = []
    served: set[tuple[int, int | None]] = set()

    def beside(progress: IngestProgress) -> None:
        if progress.stage == "publishing":
            commit_heartbeat(serving, "serving")
            stored.append(_stored(serving)[0])
            served.add(_served(serving))
            _, _, records = read_catalog_records(serving)  # what a snapshot build reads
            served.add((len(records), None))

    rows = [normalised(i) for i in range(5, 45)]
    report = ingest_paths(
        engine, [write_jsonl(tmp_path / "b.jsonl", rows)], batch_size=4, progress=beside
    )
    assert stored[-1] == 45 and len([n for n in stored if 5 < n < 45]) >= 8  # written a few
    assert served == {(5, 1), (5, None)}  # at a time, none of them seen before the end
    assert report.inserted == 40 and report.catalog_version == 2
    assert _served(engine) == (45, 2)
    serving.dispose()


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_rows_an_interrupted_ingest_left_unpublished_are_never_seen_and_then_deleted(
    engine: Engine, tmp_path: Path
) -> None:
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(5)])])
    new = write_jsonl(tmp_path / "b.jsonl", [normalised(i) for i in range(5, 45)])

    def crash_half_way(progress: IngestProgress) -> None:
        if progress.stage == "publishing" and _stored(engine)[0] > 20:
            raise _Interrupted  # as a kill would: the ingest never reaches its last commit

    with pytest.raises(_Interrupted):
        ingest_paths(engine, [new], batch_size=4, progress=crash_half_way)
    assert _stored(engine)[0] > 20  # the rows are there ...
    assert _served(engine) == (5, 1)  # ... but nobody sees them
    old_ids = [normalised(i)["id"] for i in range(5)]
    assert [r.id for r in read_catalog_records(engine)[2]] == old_ids
    with ingest_lock(engine, 5):  # an ingest running now may own them: left alone
        assert discard_unpublished(engine) == 0
    ensure_catalog(engine)  # a server's start deletes them
    assert _stored(engine) == (5, 1)

    with pytest.raises(_Interrupted):  # interrupted again: the next ingest deletes them
        ingest_paths(engine, [new], batch_size=4, progress=crash_half_way)
    report = ingest_paths(engine, [new], batch_size=4)
    assert report.inserted == 40 and report.unchanged == 0
    assert _served(engine) == (45, report.catalog_version)
    assert _stored(engine)[0] == 45
