"""Catalog reads and the bulk writer, on real SQLite and PostgreSQL."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from tests.ranking.ranking_fixtures import ART, IT, record, small_catalog
from vacrec.store.catalog import (
    read_catalog_records,
    stream_catalog_records,
    write_catalog_version,
)
from vacrec.store.db import make_engine, migrate, read_transaction
from vacrec.store.tables import catalog_versions


def test_bulk_written_catalog_reads_back_as_written(engine: Engine) -> None:
    records = small_catalog()

    version = write_catalog_version(engine, iter(records), "bulk", batch_size=3)

    read_version, actions, read = read_catalog_records(engine)
    assert read_version == version
    assert actions == tuple(sorted({g for r in records for g in r.industries}))
    by_id = {r.id: r for r in records}
    assert [r.id for r in read] == sorted(by_id)
    for r in read:
        expected = by_id[r.id]
        assert _utc(r.published_at) == expected.published_at
        assert (r.name, r.description, r.industries, r.company, r.salary, r.url, r.logo) == (
            expected.name,
            expected.description,
            tuple(sorted(expected.industries)),  # read back in name order
            expected.company,
            expected.salary,
            expected.url,
            expected.logo,
        )
    with engine.connect() as conn:
        row = conn.execute(select(catalog_versions).where(catalog_versions.c.version == version))
        counted = row.one()
    assert (counted.inserted, counted.vacancies, counted.source) == (7, 7, "bulk")


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands times back naive; they are stored in UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def test_streamed_records_carry_their_industries_across_batches(engine: Engine) -> None:
    records = [
        record("v1", "Без отрасли", [], 1),
        record("v2", "Две отрасли", [ART, IT], 2),
        record("v3", "Одна отрасль", [IT], 3),
        record("v4", "Снова без отрасли", [], 4),
        record("v5", "Три отрасли", [ART, IT, "Дизайн"], 5),
    ]
    write_catalog_version(engine, records, "test")

    with read_transaction(engine) as conn:
        streamed = list(stream_catalog_records(conn, batch_size=2))

    assert [(r.id, r.industries) for r in streamed] == [
        ("v1", ()),
        ("v2", (IT, ART)),
        ("v3", (IT,)),
        ("v4", ()),
        ("v5", ("Дизайн", IT, ART)),
    ]
    _, _, whole = read_catalog_records(engine)
    assert whole == streamed


def test_streaming_holds_a_batch_not_the_catalog(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    text = "Художник-оформитель, роспись стен. " * 600  # ~40 KB of Python str each
    records = [record(f"v{i:04}", text + str(i), [ART], i) for i in range(500)]
    write_catalog_version(engine, records, "test")
    del records

    tracemalloc.start()
    try:
        with read_transaction(engine) as conn:
            seen = sum(1 for _ in stream_catalog_records(conn, batch_size=20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        engine.dispose()

    assert seen == 500
    assert peak < 5 * 2**20  # the whole catalog is ~20 MB of text
