"""An ingest stages its batches in short transactions of their own and publishes them in
one: serving writes go on meanwhile (even with a short busy timeout), and nothing of the
new catalog is visible until the whole of it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.catalog.factories import normalised, write_jsonl
from vacrec.app.ingest import IngestProgress, ingest_paths
from vacrec.store.catalog import current_catalog_version
from vacrec.store.db import DbTimeouts, commit_heartbeat, make_engine
from vacrec.store.tables import vacancies

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
