"""Retirement: archived postings leave serving at ingest, unseen ones when a refresh finds
them unread for VACREC_RETIRE_AFTER_DAYS; rows stay, the snapshot loses them."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from tests.app.test_ingest import _taken_elsewhere
from tests.catalog.factories import normalised, write_jsonl
from vacrec.app.ingest import ingest_paths
from vacrec.app.refresh import retire_unseen
from vacrec.app.snapshots import build_lock
from vacrec.domain import as_utc
from vacrec.store.catalog import catalog_identity, catalog_industries, read_catalog_records
from vacrec.store.db import utcnow
from vacrec.store.tables import vacancies

ARTS = "Искусство, развлечения, масс-медиа"
IT = "Информационные технологии, интернет, телеком"


def _state(engine: Engine) -> dict[str, tuple[object, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(vacancies.c.id, vacancies.c.retired_reason, vacancies.c.last_seen_at)
        ).all()
    return {r.id: (r.retired_reason, r.last_seen_at) for r in rows}


def test_ingest_marks_every_posting_it_reads_as_seen_now(engine: Engine, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(3)])
    before = utcnow()
    ingest_paths(engine, [path])
    with engine.begin() as conn:  # as if read long ago
        conn.execute(update(vacancies).values(last_seen_at=before - timedelta(days=90)))
    report = ingest_paths(engine, [path])  # unchanged: no new version, but seen again
    assert report.catalog_version is None and report.unchanged == 3
    assert all(as_utc(seen) >= before for _, seen in _state(engine).values())


def test_an_archived_posting_is_kept_but_no_longer_served(engine: Engine, tmp_path: Path) -> None:
    rows = [normalised(0), normalised(1), normalised(2, industries=[IT])]
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", rows)])
    archived = [normalised(0), normalised(1), {**normalised(2, industries=[IT]), "archived": True}]
    report = ingest_paths(engine, [write_jsonl(tmp_path / "b.jsonl", archived)])

    assert report.retired == 1 and report.catalog_version is not None
    assert _state(engine)["t-2"][0] == "archived"
    version, actions, records = read_catalog_records(engine)
    assert version == report.catalog_version
    assert [r.id for r in records] == ["t-0", "t-1"]
    assert actions == (ARTS,)  # the industry whose only posting retired is no action now
    with engine.connect() as conn:
        assert catalog_industries(conn) == [ARTS]
    assert report.vacancies == 2

    # Listed open again (hh.ru reopened it): served again, a new version.
    again = ingest_paths(engine, [write_jsonl(tmp_path / "c.jsonl", rows)])
    assert again.revived == 1 and again.catalog_version is not None
    assert _state(engine)["t-2"][0] is None
    assert len(read_catalog_records(engine)[2]) == 3


def test_unseen_postings_retire_after_the_threshold_counted_from_last_seen(
    engine: Engine, tmp_path: Path
) -> None:
    # Old postings (published in 2023) ingested now are not retired: age counts from reading.
    old = [normalised(i, published_at="2023-03-01T10:00:00+03:00") for i in range(3)]
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", old)])
    now = utcnow()
    assert retire_unseen(engine, now - timedelta(days=30), now) == (0, None)

    with engine.begin() as conn:
        conn.execute(
            update(vacancies)
            .where(vacancies.c.id == "t-1")
            .values(last_seen_at=now - timedelta(days=31))
        )
    retired, version = retire_unseen(engine, now - timedelta(days=30), now)
    assert retired == 1 and version is not None
    assert _state(engine)["t-1"][0] == "unseen"
    assert [r.id for r in read_catalog_records(engine)[2]] == ["t-0", "t-2"]
    assert retire_unseen(engine, now - timedelta(days=30), now) == (0, None)  # idempotent


def test_a_refresh_reserves_its_retirement_versions_snapshot_build_as_an_ingest_does(
    engine: Engine, tmp_path: Path
) -> None:
    """A server noticing the version a retirement made waits for the refresh's build."""
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", [normalised(i) for i in range(3)])])
    later = utcnow() + timedelta(days=90)
    with ExitStack() as reserved:
        retired, version = retire_unseen(engine, later - timedelta(days=1), later, reserved)
        assert retired == 3 and version is not None
        with engine.connect() as conn:
            lock = build_lock(engine, catalog_identity(conn, version))
        assert lock is not None and _taken_elsewhere(lock.lock_file)
    assert not _taken_elsewhere(lock.lock_file)
