"""Catalog reads: the current version, the action list and the vacancies a snapshot is built
from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, Engine, func, select

from vacrec.store.db import read_transaction
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries


@dataclass(frozen=True)
class CatalogRecord:
    """One vacancy row as the snapshot is built from it (from the store or in memory)."""

    id: str
    name: str
    description: str
    industries: tuple[str, ...]
    company: str | None = None
    salary: int | None = None
    url: str | None = None
    logo: str | None = None
    published_at: datetime | None = None


def current_catalog_version(conn: Connection) -> int | None:
    """The newest catalog version, or None for an empty store; cheap enough to poll."""
    return conn.execute(select(func.max(catalog_versions.c.version))).scalar_one_or_none()


def catalog_industries(conn: Connection) -> list[str]:
    """The agent's action list: the catalog's industry groups, sorted for stable indices."""
    rows = conn.execute(select(vacancy_industries.c.industry).distinct())
    return sorted(row[0] for row in rows)


def read_catalog_records(
    engine: Engine,
) -> tuple[int | None, tuple[str, ...], list[CatalogRecord]]:
    """The catalog version, its action list and its vacancies, read in one transaction."""
    with read_transaction(engine) as conn:
        version = current_catalog_version(conn)
        actions = tuple(catalog_industries(conn))
        groups: dict[str, list[str]] = {}
        for vacancy_id, industry in conn.execute(
            select(vacancy_industries.c.vacancy_id, vacancy_industries.c.industry).order_by(
                vacancy_industries.c.vacancy_id, vacancy_industries.c.industry
            )
        ):
            groups.setdefault(vacancy_id, []).append(industry)
        rows = conn.execute(
            select(
                vacancies.c.id,
                vacancies.c.name,
                vacancies.c.description,
                vacancies.c.company,
                vacancies.c.salary,
                vacancies.c.url,
                vacancies.c.logo,
                vacancies.c.published_at,
            ).order_by(vacancies.c.id)
        ).all()
    records = [
        CatalogRecord(
            id=row.id,
            name=row.name,
            description=row.description,
            industries=tuple(groups.get(row.id, ())),
            company=row.company,
            salary=row.salary,
            url=row.url,
            logo=row.logo,
            published_at=row.published_at,
        )
        for row in rows
    ]
    return version, actions, records


class IndustryLabel(NamedTuple):
    """A vacancy's industries and whether ingest inferred them (hh.ru gave none)."""

    id: str
    industries: frozenset[str]
    inferred: bool


def industry_labels(conn: Connection) -> list[IndustryLabel]:
    """Every vacancy's industries as stored, with the inferred flag (benchmarks' truth)."""
    rows = conn.execute(
        select(vacancies.c.id, vacancies.c.industries, vacancies.c.industry_inferred)
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
    return list(conn.scalars(select(vacancies.c.name).limit(limit)))
