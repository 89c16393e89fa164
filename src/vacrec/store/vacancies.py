"""The SQL of an ingest: the vacancy rows it compares, stages, publishes, deletes and labels,
and the catalog version it creates. Transactions are the caller's (``vacrec.app.ingest``).

An ingest first fills two temporary tables of its own connection (:class:`Staging`) in
short transactions that never take the store's write lock. Then :func:`hide_new` moves the
new vacancies into the store a page per short transaction, under a catalog version not yet
published (no reader sees them: store/visibility.py), and one small transaction replaces the
changed ones (:func:`publish`) and publishes the version (:func:`publish_version`): the
catalog changes whole or not at all, and serving goes on writing meanwhile."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from vacrec.catalog.schema import Vacancy
from vacrec.store.db import utcnow
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries
from vacrec.store.visibility import published_rows, served_rows, unpublished_versions

_CHUNK = 500
PAGE_ROWS = 2_000
"""Ids fetched at a time when paging through the stored vacancies."""
RETIRED_ARCHIVED = "archived"
"""``retired_reason`` of a posting hh.ru reported archived."""
RETIRED_UNSEEN = "unseen"
"""``retired_reason`` of a posting no collection saw for ``VACREC_RETIRE_AFTER_DAYS``."""

T = TypeVar("T")


def holds_only(conn: Connection, source: str) -> bool:
    """True when every catalog version so far came from ``source``."""
    sources = set(conn.execute(select(catalog_versions.c.source).distinct()).scalars())
    return sources == {source}


def new_catalog_version(conn: Connection, source: str, *, published: bool = True) -> int:
    """Open a catalog version (its counts are recorded by :func:`record_version_counts`);
    an unpublished one is seen by no reader until :func:`publish_version`."""
    version: int = conn.execute(
        insert(catalog_versions)
        .values(
            created_at=utcnow(),
            source=source[:1000],
            inserted=0,
            updated=0,
            vacancies=0,
            published=published,
        )
        .returning(catalog_versions.c.version)
    ).scalar_one()
    return version


def publish_version(conn: Connection, version: int) -> None:
    """Make ``version`` and the vacancies written under it visible (one small update)."""
    conn.execute(
        update(catalog_versions).where(catalog_versions.c.version == version).values(published=True)
    )


def hide_new(conn: Connection, staging: Staging, version: int, limit: int) -> int:
    """Move up to ``limit`` staged vacancies whose ids are not stored into the store under
    ``version`` (unpublished: nobody sees them yet), with their industry links; how many.
    Each call is meant as its own short transaction, under the ingest lock."""
    rows = staging.vacancies
    stored = select(vacancies.c.id).where(vacancies.c.id == rows.c.id).exists()
    page = list(
        conn.execute(select(rows.c.id).where(~stored).order_by(rows.c.id).limit(limit)).scalars()
    )
    if not page:
        return 0
    names = [c.name for c in vacancies.columns]
    conn.execute(
        insert(vacancies).from_select(
            names,
            select(
                *(literal(version).label(n) if n == "catalog_version" else rows.c[n] for n in names)
            ).where(rows.c.id.in_(page)),
        )
    )
    links = staging.links
    conn.execute(
        insert(vacancy_industries).from_select(
            ["vacancy_id", "industry"],
            select(links.c.vacancy_id, links.c.industry).where(links.c.vacancy_id.in_(page)),
        )
    )
    conn.execute(delete(links).where(links.c.vacancy_id.in_(page)))
    conn.execute(delete(rows).where(rows.c.id.in_(page)))
    return len(page)


def unpublished_id_page(conn: Connection) -> list[str]:
    """Up to :data:`PAGE_ROWS` ids of vacancies under an unpublished version (delete them a
    page per transaction, then :func:`delete_unpublished_versions`)."""
    query = select(vacancies.c.id).where(vacancies.c.catalog_version.in_(unpublished_versions()))
    return list(conn.execute(query.limit(PAGE_ROWS)).scalars())


def delete_unpublished_versions(conn: Connection) -> int:
    """Delete the unpublished catalog versions (their vacancies deleted first); how many."""
    return conn.execute(
        delete(catalog_versions).where(catalog_versions.c.published.is_(False))
    ).rowcount


def existing_hashes(conn: Connection, ids: list[str]) -> dict[str, str]:
    """The stored content hash of each of ``ids`` that is stored."""
    found: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(vacancies.c.id, vacancies.c.content_hash).where(
                vacancies.c.id.in_(chunk), published_rows()
            )
        )
        found.update({row.id: row.content_hash for row in rows})
    return found


@dataclass(frozen=True)
class Staging:
    """Where an ingest puts its new and changed vacancies before :func:`publish`: temporary
    tables shaped like ``vacancies`` and ``vacancy_industries`` (without foreign keys),
    private to one connection. On SQLite they live outside the database file, so writing
    them takes no lock a serving worker waits for."""

    vacancies: Table
    links: Table

    @classmethod
    def create(cls, conn: Connection) -> Staging:
        """Create (afresh) the staging tables on ``conn``, in the caller's transaction."""
        meta = MetaData()
        rows = Table(
            "vacrec_staged_vacancies",
            meta,
            *(
                Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                for c in vacancies.columns
            ),
            prefixes=["TEMPORARY"],
        )
        links = Table(
            "vacrec_staged_links",
            meta,
            *(
                Column(c.name, c.type, primary_key=c.primary_key)
                for c in vacancy_industries.columns
            ),
            prefixes=["TEMPORARY"],
        )
        staging = cls(rows, links)
        staging.drop(conn)
        meta.create_all(conn)
        return staging

    def drop(self, conn: Connection) -> None:
        """Drop the staging tables (a pooled connection outlives the ingest)."""
        for table in (self.links, self.vacancies):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")

    def count(self, conn: Connection) -> int:
        return conn.execute(select(func.count()).select_from(self.vacancies)).scalar_one()


def insert_vacancies(
    conn: Connection,
    batch: Sequence[Vacancy],
    hashes: Mapping[str, str],
    version: int,
    seen_at: datetime | None = None,
    staging: Staging | None = None,
) -> None:
    """Insert ``batch`` (ids not stored) with their content hashes and industry links, seen
    at ``seen_at`` (now by default; an archived one is stored retired), into ``staging``
    when given (``version`` is then a placeholder :func:`publish` replaces)."""
    seen_at = seen_at or utcnow()
    rows_table, links_table = (
        (vacancies, vacancy_industries) if staging is None else (staging.vacancies, staging.links)
    )
    rows = [_row(v, hashes[v.id], version, seen_at) for v in batch]
    conn.execute(insert(rows_table), rows)
    links = [{"vacancy_id": v.id, "industry": g} for v in batch for g in v.industries]
    if links:
        conn.execute(insert(links_table), links)


def drop_staged_unchanged(conn: Connection, staging: Staging) -> tuple[int, int]:
    """Forget the staged vacancies the store already holds unchanged (another ingest published
    them since they were staged: two replicas loading the demo catalog at once), and return
    (new, changed) of what is left. Run under the ingest lock, just before publishing."""
    rows = staging.vacancies
    same = (
        select(vacancies.c.id)
        .where(vacancies.c.id == rows.c.id, vacancies.c.content_hash == rows.c.content_hash)
        .exists()
    )
    conn.execute(delete(staging.links).where(staging.links.c.vacancy_id.in_(
        select(rows.c.id).where(same))))  # fmt: skip
    conn.execute(delete(rows).where(same))
    stored = select(vacancies.c.id).where(vacancies.c.id == rows.c.id).exists()
    changed = conn.execute(select(func.count()).select_from(rows).where(stored)).scalar_one()
    total = conn.execute(select(func.count()).select_from(rows)).scalar_one()
    return int(total) - int(changed), int(changed)


def publish(conn: Connection, staging: Staging, version: int) -> None:
    """Move the staged vacancies into the store as ``version``: each replaces a stored one of
    its id, if any (an upsert by id, so publishing after another ingest is still right)."""
    staged_ids = select(staging.vacancies.c.id)
    conn.execute(delete(vacancy_industries).where(vacancy_industries.c.vacancy_id.in_(staged_ids)))
    conn.execute(delete(vacancies).where(vacancies.c.id.in_(staged_ids)))
    names = [c.name for c in vacancies.columns]
    conn.execute(
        insert(vacancies).from_select(
            names,
            select(
                *(
                    literal(version).label(n) if n == "catalog_version" else staging.vacancies.c[n]
                    for n in names
                )
            ),
        )
    )
    conn.execute(
        insert(vacancy_industries).from_select(
            ["vacancy_id", "industry"], select(staging.links.c.vacancy_id, staging.links.c.industry)
        )
    )


def delete_vacancies(conn: Connection, ids: Sequence[str]) -> None:
    """Delete the vacancies ``ids`` and their industry links."""
    for chunk in _chunks(ids):
        conn.execute(delete(vacancy_industries).where(vacancy_industries.c.vacancy_id.in_(chunk)))
        conn.execute(delete(vacancies).where(vacancies.c.id.in_(chunk)))


def touch_seen(conn: Connection, ids: Sequence[str], seen_at: datetime) -> None:
    """Record that the stored vacancies ``ids`` were read again at ``seen_at`` (what serves
    does not change: this may run in its own short transactions before publishing)."""
    _update_ids(conn, ids, {"last_seen_at": seen_at})


def retire_or_revive(
    conn: Connection, open_ids: Sequence[str], archived_ids: Sequence[str], seen_at: datetime
) -> tuple[int, int]:
    """Stored vacancies read again at ``seen_at``: an archived one is retired, an open one
    serves again if it was retired. Returns (newly retired, revived): when either is
    non-zero the served catalog changed."""
    retired = _update_ids(
        conn,
        archived_ids,
        {"retired_at": seen_at, "retired_reason": RETIRED_ARCHIVED},
        vacancies.c.retired_at.is_(None),
    )
    revived = _update_ids(
        conn,
        open_ids,
        {"retired_at": None, "retired_reason": None},
        vacancies.c.retired_at.is_not(None),
    )
    return retired, revived


def _update_ids(
    conn: Connection,
    ids: Sequence[str],
    values: dict[str, object],
    *where: ColumnElement[bool],
) -> int:
    """Set ``values`` on the vacancies ``ids`` that also meet ``where``, a chunk of ids per
    statement (a bound-parameter list has a size limit); how many rows changed."""
    changed = 0
    for chunk in _chunks(ids):
        changed += conn.execute(
            update(vacancies).where(vacancies.c.id.in_(chunk), *where).values(values)
        ).rowcount
    return changed


def retire_unseen(conn: Connection, seen_before: datetime, now: datetime) -> int:
    """Retire every served vacancy last seen before ``seen_before``; how many."""
    return conn.execute(
        update(vacancies)
        .where(vacancies.c.retired_at.is_(None), vacancies.c.last_seen_at < seen_before)
        .values(retired_at=now, retired_reason=RETIRED_UNSEEN)
    ).rowcount


def stored_id_pages(conn: Connection) -> Iterator[list[str]]:
    """Every stored vacancy id, a page at a time in id order."""
    return _id_pages(conn, select(vacancies.c.id).where(published_rows()))


def unlabelled_pages(conn: Connection, staging: Staging) -> Iterator[Sequence[Row[Any, Any, Any]]]:
    """The (id, name, description) of the staged vacancies without an industry, a page at a
    time; label each page (:func:`label_vacancies`) before asking for the next."""
    rows, links = staging.vacancies, staging.links
    unlabelled = select(rows.c.id).where(~exists().where(links.c.vacancy_id == rows.c.id))
    for page in _id_pages(conn, unlabelled, rows):
        yield conn.execute(
            select(rows.c.id, rows.c.name, rows.c.description)
            .where(rows.c.id.in_(page))
            .order_by(rows.c.id)
        ).all()


def label_vacancies(
    conn: Connection, staging: Staging, guesses: Sequence[tuple[str, str, float]]
) -> None:
    """Give each staged ``(vacancy_id, industry, confidence)`` its inferred group, flagged."""
    rows, links = staging.vacancies, staging.links
    conn.execute(
        update(rows)
        .where(rows.c.id == bindparam("vacancy_id"))
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
        insert(links),
        [{"vacancy_id": vacancy_id, "industry": industry} for vacancy_id, industry, _ in guesses],
    )


def labelled_examples(
    conn: Connection, staging: Staging | None = None, *, staged: bool = False
) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """``(id, "name. description", groups)`` of every vacancy labelled by its source (never an
    inferred one), in id order, a page at a time: the stored ones (but those ``staging``
    replaces), or with ``staged`` the staged ones."""
    table = staging.vacancies if staging is not None and staged else vacancies
    labelled = select(table.c.id).where(table.c.industry_inferred.is_(False))
    if not staged:
        labelled = labelled.where(published_rows())
    if staging is not None and not staged:
        labelled = labelled.where(table.c.id.not_in(select(staging.vacancies.c.id)))
    for page in _id_pages(conn, labelled, table):
        rows = conn.execute(
            select(table.c.id, table.c.name, table.c.description, table.c.industries)
            .where(table.c.id.in_(page))
            .order_by(table.c.id)
        )
        for row in rows:
            if row.industries:
                yield row.id, f"{row.name}. {row.description}", tuple(row.industries)


def catalog_counts(conn: Connection) -> tuple[int, int]:
    """(vacancies, distinct industries) served now: retired postings are not counted."""
    count = conn.execute(
        select(func.count()).select_from(vacancies).where(served_rows())
    ).scalar_one()
    industries = conn.execute(
        select(func.count(vacancy_industries.c.industry.distinct()))
        .select_from(vacancy_industries.join(vacancies))
        .where(served_rows())
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


def _id_pages(
    conn: Connection, query: Select[str], table: Table = vacancies
) -> Iterator[list[str]]:
    """The ids of ``table`` that ``query`` selects, a page at a time in id order (keyset
    paging).

    Each page is fetched whole before the caller writes, so writing between
    pages is safe on both databases.
    """
    last: str | None = None
    while True:
        paged = query if last is None else query.where(table.c.id > last)
        page = list(conn.execute(paged.order_by(table.c.id).limit(PAGE_ROWS)).scalars())
        if not page:
            return
        yield page
        last = page[-1]


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
