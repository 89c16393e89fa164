"""Catalog reads: the current version, the action list and the vacancies a snapshot is built
from; and a bulk writer that fills a store at benchmark scale."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, insert, select

from vacrec.catalog.schema import CatalogRecord, content_hash
from vacrec.store.db import read_transaction, utcnow
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries
from vacrec.store.visibility import published_rows, served_rows


def current_catalog_version(conn: Connection) -> int | None:
    """The newest published catalog version, or None for an empty store; cheap enough to poll
    (a version an ingest is still writing is not current: see store/visibility.py)."""
    return conn.execute(
        select(func.max(catalog_versions.c.version)).where(catalog_versions.c.published)
    ).scalar_one_or_none()


def catalog_industries(conn: Connection) -> list[str]:
    """The agent's action list: the catalog's industry groups, sorted for stable indices."""
    rows = conn.execute(
        select(vacancy_industries.c.industry)
        .distinct()
        .select_from(vacancy_industries.join(vacancies))
        .where(served_rows())
    )
    return sorted(row[0] for row in rows)


_RECORD_COLUMNS = tuple(
    vacancies.c[field.name]
    for field in dataclasses.fields(CatalogRecord)
    if field.name != "industries"
)
"""The ``vacancies`` columns a :class:`CatalogRecord` holds, named as its fields (its
industries are ``vacancy_industries`` rows): one list, the record's."""

READ_BATCH = 1_000
"""Vacancies fetched from the database at a time while a snapshot is built: a few MB of
text in flight, and a PostgreSQL session never idles in its transaction for long (each
batch is normalised between two fetches)."""


def read_catalog_records(
    engine: Engine,
) -> tuple[int | None, tuple[str, ...], list[CatalogRecord]]:
    """The catalog version, its action list and its vacancies (all in memory: benchmarks and
    small catalogs; a snapshot build streams them with :func:`stream_catalog_records`)."""
    with read_transaction(engine) as conn:
        version = current_catalog_version(conn)
        actions = tuple(catalog_industries(conn))
        records = list(stream_catalog_records(conn))
    return version, actions, records


def stream_catalog_records(
    conn: Connection, batch_size: int = READ_BATCH
) -> Iterator[CatalogRecord]:
    """Every served (not retired) vacancy of ``conn``'s transaction in id order, with its
    industries sorted, fetched ``batch_size`` rows at a time (a server-side cursor on PostgreSQL).

    Memory stays bounded: the vacancies and their industry rows are two cursors in the
    same id order, merged as they are read, so neither is held whole. Consume it
    inside the transaction that opened ``conn``.
    """
    streamed = conn.execution_options(yield_per=batch_size)
    rows = streamed.execute(select(*_RECORD_COLUMNS).where(served_rows()).order_by(vacancies.c.id))
    links = streamed.execute(
        select(vacancy_industries.c.vacancy_id, vacancy_industries.c.industry)
        .select_from(vacancy_industries.join(vacancies))
        .where(served_rows())
        .order_by(vacancy_industries.c.vacancy_id, vacancy_industries.c.industry)
    )
    with rows, links:
        groups = _IndustriesInIdOrder(iter(links))
        for row in rows:
            yield CatalogRecord(**row._mapping, industries=groups.of(row.id))
        groups.check_exhausted()


class _IndustriesInIdOrder:
    """Industry rows ordered as the vacancies are, handed out one vacancy at a time.

    Ids are matched by equality, never compared in Python: the database's collation
    decides the order of both cursors, and every link names a stored vacancy (a foreign
    key), so a link not matching the current vacancy belongs to a later one.
    """

    def __init__(self, links: Iterator[Any]) -> None:
        self._links = links
        self._next = next(links, None)

    def of(self, vacancy_id: str) -> tuple[str, ...]:
        """The industries of ``vacancy_id``, the next vacancy in id order."""
        found: list[str] = []
        while self._next is not None and self._next.vacancy_id == vacancy_id:
            found.append(self._next.industry)
            self._next = next(self._links, None)
        return tuple(found)

    def check_exhausted(self) -> None:
        """Fail loudly if a link was never matched (the two orders disagreed)."""
        if self._next is not None:
            raise RuntimeError(
                f"industry of vacancy {self._next.vacancy_id!r} read out of the vacancies' order"
            )


class IndustryLabel(NamedTuple):
    """A vacancy's industries and whether ingest inferred them (hh.ru gave none)."""

    id: str
    industries: frozenset[str]
    inferred: bool


def industry_labels(conn: Connection) -> list[IndustryLabel]:
    """Every vacancy's industries as stored, with the inferred flag (benchmarks' truth)."""
    rows = conn.execute(
        select(vacancies.c.id, vacancies.c.industries, vacancies.c.industry_inferred).where(
            published_rows()
        )
    )
    return [IndustryLabel(r.id, frozenset(r.industries), bool(r.industry_inferred)) for r in rows]


def catalog_identity(conn: Connection, version: int) -> dict[str, str | int]:
    """What tells catalog version ``version`` of this database from a same-numbered version of
    another (a saved index must match all of it): its number, creation time, source and size."""
    row = conn.execute(
        select(
            catalog_versions.c.created_at, catalog_versions.c.source, catalog_versions.c.vacancies
        ).where(catalog_versions.c.version == version)
    ).one()
    return {
        "version": version,
        "created_at": row.created_at.isoformat(),
        "source": row.source,
        "vacancies": row.vacancies,
    }


def vacancy_titles(conn: Connection, limit: int) -> list[str]:
    """Up to ``limit`` vacancy titles (benchmarks type them as seekers' preferences)."""
    return list(conn.scalars(select(vacancies.c.name).where(published_rows()).limit(limit)))


WRITE_BATCH = 5_000
"""Records inserted per statement by :func:`write_catalog_version`."""


def write_catalog_version(
    engine: Engine, records: Iterable[CatalogRecord], source: str, *, batch_size: int = WRITE_BATCH
) -> int:
    """Insert ``records`` (ids new to the store) as one new catalog version; its number.

    The tables an ingest fills, a batch at a time in one transaction, without the ingest's
    parsing, validation, deduplication and comparison: benchmarks fill a store of a million
    replicated vacancies with it in minutes, and ``records`` may be a generator (memory
    does not grow with them). For benchmarks and tests only. Its content hash is the
    ingest's (:func:`~vacrec.catalog.schema.content_hash`), over the fields a record has.
    """
    with engine.begin() as conn:
        version = conn.execute(
            insert(catalog_versions)
            .values(created_at=utcnow(), source=source, inserted=0, updated=0, vacancies=0)
            .returning(catalog_versions.c.version)
        ).scalar_one()
        written = 0
        iterator = iter(records)
        while batch := list(islice(iterator, batch_size)):
            conn.execute(insert(vacancies), [_vacancy_row(r, version) for r in batch])
            links = [{"vacancy_id": r.id, "industry": g} for r in batch for g in r.industries]
            if links:
                conn.execute(insert(vacancy_industries), links)
            written += len(batch)
        total = conn.execute(select(func.count()).select_from(vacancies)).scalar_one()
        conn.execute(
            catalog_versions.update()
            .where(catalog_versions.c.version == version)
            .values(inserted=written, vacancies=total)
        )
    return int(version)


def _vacancy_row(record: CatalogRecord, version: int) -> dict[str, Any]:
    """The ``vacancies`` row of a labelled source record."""
    fields = dataclasses.asdict(record)
    return {
        **fields,
        "industries": list(record.industries),
        "industry_inferred": False,
        "industry_confidence": None,
        "content_hash": content_hash(record),
        "catalog_version": version,
        "last_seen_at": utcnow(),
    }
