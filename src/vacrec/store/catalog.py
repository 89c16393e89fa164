"""Catalog queries that every reader of the catalog shares."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from vacrec.store.tables import catalog_versions, vacancy_industries


def current_catalog_version(conn: Connection) -> int | None:
    """The newest catalog version, or None for an empty store; cheap enough to poll."""
    return conn.execute(select(func.max(catalog_versions.c.version))).scalar_one_or_none()


def catalog_industries(conn: Connection) -> list[str]:
    """The agent's action list: the catalog's industry groups, sorted for stable indices."""
    rows = conn.execute(select(vacancy_industries.c.industry).distinct())
    return sorted(row[0] for row in rows)
