"""Catalog reads and the bulk writer, on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from tests.ranking.ranking_fixtures import small_catalog
from vacrec.store.catalog import read_catalog_records, write_catalog_version
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
