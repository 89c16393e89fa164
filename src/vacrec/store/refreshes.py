"""The refresh log (``catalog_refreshes``) and the catalog's age, for `vacrec refresh` and the
dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from vacrec.store.tables import catalog_refreshes, vacancies
from vacrec.store.visibility import published_rows


def record_refresh(
    conn: Connection,
    *,
    started_at: datetime,
    finished_at: datetime,
    queries: list[dict[str, Any]],
    collected: int,
    inserted: int,
    updated: int,
    retired: int,
    catalog_version: int | None,
    error: str | None,
) -> int:
    """Log one refresh run; its id."""
    return int(
        conn.execute(
            insert(catalog_refreshes)
            .values(
                started_at=started_at,
                finished_at=finished_at,
                queries=queries,
                collected=collected,
                inserted=inserted,
                updated=updated,
                retired=retired,
                catalog_version=catalog_version,
                error=error[:2000] if error else None,
            )
            .returning(catalog_refreshes.c.id)
        ).scalar_one()
    )


def last_refresh(conn: Connection) -> dict[str, Any] | None:
    """The newest refresh row as a dict, or None when the store was never refreshed."""
    row = conn.execute(
        select(catalog_refreshes).order_by(catalog_refreshes.c.id.desc()).limit(1)
    ).first()
    return None if row is None else dict(row._mapping)


def catalog_age(conn: Connection) -> dict[str, Any]:
    """How old the served catalog is: served and retired counts, the newest and oldest
    publication date served, and when a collection or ingest last read a served posting."""
    served = vacancies.c.retired_at.is_(None)
    published = published_rows()
    n_served, newest, oldest, seen = conn.execute(
        select(
            func.count(),
            func.max(vacancies.c.published_at),
            func.min(vacancies.c.published_at),
            func.max(vacancies.c.last_seen_at),
        ).where(served, published)
    ).one()
    n_retired = conn.execute(
        select(func.count()).select_from(vacancies).where(~served, published)
    ).scalar_one()
    return {
        "served": int(n_served),
        "retired": int(n_retired),
        "newest_published_at": newest,
        "oldest_published_at": oldest,
        "last_seen_at": seen,
    }
