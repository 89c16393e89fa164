"""The SQL of an ingest: the vacancy rows it compares, writes, deletes and labels, and the
catalog version it creates. The transaction is the caller's (``vacrec.app.ingest``): every
function here runs inside it, so an ingest commits whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Row,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)

from vacrec.catalog.schema import Vacancy
from vacrec.store.db import utcnow
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries

_CHUNK = 500
PAGE_ROWS = 2_000
"""Ids fetched at a time when paging through the stored vacancies."""
_PG_INGEST_LOCK = 7_305_001  # advisory lock id: one ingest at a time across replicas
RETIRED_ARCHIVED = "archived"
"""``retired_reason`` of a posting hh.ru reported archived."""
RETIRED_UNSEEN = "unseen"
"""``retired_reason`` of a posting no collection saw for ``VACREC_RETIRE_AFTER_DAYS``."""

T = TypeVar("T")


def lock_ingest(conn: Connection) -> None:
    """Serialise ingests on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INGEST_LOCK})


def holds_only(conn: Connection, source: str) -> bool:
    """True when every catalog version so far came from ``source``."""
    sources = set(conn.execute(select(catalog_versions.c.source).distinct()).scalars())
    return sources == {source}


def new_catalog_version(conn: Connection, source: str) -> int:
    """Open a catalog version (its counts are recorded by :func:`record_version_counts`)."""
    version: int = conn.execute(
        insert(catalog_versions)
        .values(created_at=utcnow(), source=source[:1000], inserted=0, updated=0, vacancies=0)
        .returning(catalog_versions.c.version)
    ).scalar_one()
    return version


def existing_hashes(conn: Connection, ids: list[str]) -> dict[str, str]:
    """The stored content hash of each of ``ids`` that is stored."""
    found: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(vacancies.c.id, vacancies.c.content_hash).where(vacancies.c.id.in_(chunk))
        )
        found.update({row.id: row.content_hash for row in rows})
    return found


def insert_vacancies(
    conn: Connection,
    batch: Sequence[Vacancy],
    hashes: Mapping[str, str],
    version: int,
    seen_at: datetime | None = None,
) -> None:
    """Insert ``batch`` (ids not stored) with their content hashes and industry links, seen
    at ``seen_at`` (now by default); an archived one is stored retired."""
    seen_at = seen_at or utcnow()
    rows = [_row(v, hashes[v.id], version, seen_at) for v in batch]
    conn.execute(insert(vacancies), rows)
    links = [{"vacancy_id": v.id, "industry": g} for v in batch for g in v.industries]
    if links:
        conn.execute(insert(vacancy_industries), links)


def delete_vacancies(conn: Connection, ids: Sequence[str]) -> None:
    """Delete the vacancies ``ids`` and their industry links."""
    for chunk in _chunks(ids):
        conn.execute(delete(vacancy_industries).where(vacancy_industries.c.vacancy_id.in_(chunk)))
        conn.execute(delete(vacancies).where(vacancies.c.id.in_(chunk)))


def mark_seen(conn: Connection, batch: Sequence[Vacancy], seen_at: datetime) -> tuple[int, int]:
    """Record that stored vacancies of ``batch`` were read again at ``seen_at``: an archived
    one is retired, any other one serves again if it was retired. Returns (newly retired,
    revived): when either is non-zero the served catalog changed."""
    archived = [v.id for v in batch if v.archived]
    open_ids = [v.id for v in batch if not v.archived]
    retired = revived = 0
    for chunk in _chunks([v.id for v in batch]):
        conn.execute(
            update(vacancies).where(vacancies.c.id.in_(chunk)).values(last_seen_at=seen_at)
        )
    for chunk in _chunks(archived):
        retired += conn.execute(
            update(vacancies)
            .where(vacancies.c.id.in_(chunk), vacancies.c.retired_at.is_(None))
            .values(retired_at=seen_at, retired_reason=RETIRED_ARCHIVED)
        ).rowcount
    for chunk in _chunks(open_ids):
        revived += conn.execute(
            update(vacancies)
            .where(vacancies.c.id.in_(chunk), vacancies.c.retired_at.is_not(None))
            .values(retired_at=None, retired_reason=None)
        ).rowcount
    return retired, revived


def retire_unseen(conn: Connection, seen_before: datetime, now: datetime) -> int:
    """Retire every served vacancy last seen before ``seen_before``; how many."""
    return conn.execute(
        update(vacancies)
        .where(vacancies.c.retired_at.is_(None), vacancies.c.last_seen_at < seen_before)
        .values(retired_at=now, retired_reason=RETIRED_UNSEEN)
    ).rowcount


def stored_id_pages(conn: Connection) -> Iterator[list[str]]:
    """Every stored vacancy id, a page at a time in id order."""
    return _id_pages(conn, select(vacancies.c.id))


def unlabelled_pages(
    conn: Connection, version: int | None
) -> Iterator[Sequence[Row[Any, Any, Any]]]:
    """The (id, name, description) of ``version``'s vacancies without an industry, a page at a
    time; label each page (:func:`label_vacancies`) before asking for the next."""
    unlabelled = select(vacancies.c.id).where(
        vacancies.c.catalog_version == version,
        ~exists().where(vacancy_industries.c.vacancy_id == vacancies.c.id),
    )
    for page in _id_pages(conn, unlabelled):
        yield conn.execute(
            select(vacancies.c.id, vacancies.c.name, vacancies.c.description)
            .where(vacancies.c.id.in_(page))
            .order_by(vacancies.c.id)
        ).all()


def label_vacancies(conn: Connection, guesses: Sequence[tuple[str, str, float]]) -> None:
    """Give each ``(vacancy_id, industry, confidence)`` its inferred group, flagged as such."""
    conn.execute(
        update(vacancies)
        .where(vacancies.c.id == bindparam("vacancy_id"))
        .values(
            industries=bindparam("groups"),
            industry_inferred=True,
            industry_confidence=bindparam("confidence"),
        ),
        [
            {"vacancy_id": vacancy_id, "groups": [industry], "confidence": confidence}
            for vacancy_id, industry, confidence in guesses
        ],
    )
    conn.execute(
        insert(vacancy_industries),
        [{"vacancy_id": vacancy_id, "industry": industry} for vacancy_id, industry, _ in guesses],
    )


def labelled_examples(conn: Connection) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``("name. description", groups)`` of every vacancy labelled by its source (never an
    inferred one), in id order, a page at a time."""
    labelled = select(vacancies.c.id).where(vacancies.c.industry_inferred.is_(False))
    for page in _id_pages(conn, labelled):
        rows = conn.execute(
            select(vacancies.c.name, vacancies.c.description, vacancies.c.industries)
            .where(vacancies.c.id.in_(page))
            .order_by(vacancies.c.id)
        )
        for row in rows:
            if row.industries:
                yield f"{row.name}. {row.description}", tuple(row.industries)


def catalog_counts(conn: Connection) -> tuple[int, int]:
    """(vacancies, distinct industries) served now: retired postings are not counted."""
    count = conn.execute(
        select(func.count()).select_from(vacancies).where(vacancies.c.retired_at.is_(None))
    ).scalar_one()
    industries = conn.execute(
        select(func.count(vacancy_industries.c.industry.distinct()))
        .select_from(vacancy_industries.join(vacancies))
        .where(vacancies.c.retired_at.is_(None))
    ).scalar_one()
    return count, industries


def record_version_counts(
    conn: Connection, version: int, *, inserted: int, updated: int, vacancies_now: int
) -> None:
    """Record what ``version`` changed and how many vacancies it left."""
    conn.execute(
        update(catalog_versions)
        .where(catalog_versions.c.version == version)
        .values(inserted=inserted, updated=updated, vacancies=vacancies_now)
    )


def _row(vacancy: Vacancy, digest: str, version: int, seen_at: datetime) -> dict[str, object]:
    return {
        **vacancy.model_dump(exclude={"industries", "archived"}),
        "industries": list(vacancy.industries),
        "content_hash": digest,
        "catalog_version": version,
        "last_seen_at": seen_at,
        "retired_at": seen_at if vacancy.archived else None,
        "retired_reason": RETIRED_ARCHIVED if vacancy.archived else None,
    }


def _id_pages(conn: Connection, query: Select[str]) -> Iterator[list[str]]:
    """The ids ``query`` selects, a page at a time in id order (keyset paging).

    Each page is fetched whole before the caller writes, so writing between
    pages is safe on both databases.
    """
    last: str | None = None
    while True:
        paged = query if last is None else query.where(vacancies.c.id > last)
        page = list(conn.execute(paged.order_by(vacancies.c.id).limit(PAGE_ROWS)).scalars())
        if not page:
            return
        yield page
        last = page[-1]


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
