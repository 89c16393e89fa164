"""Which vacancy rows a reader may see: those of a published catalog version.

An ingest writes its new vacancies under a catalog version not yet published, a batch per
short transaction (SQLite's write lock is never held for the whole catalog), then publishes
the version in one small transaction: a reader sees the whole new catalog or none of it.
A crash in between leaves rows of a version never published, which no reader sees and the
next ingest (or a server's start) deletes. Every query of served or stored vacancies
filters with :func:`published_rows`."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, Table, select

from vacrec.store.tables import catalog_versions, vacancies


def unpublished_versions() -> Select[tuple[int]]:
    """The catalog versions an ingest is still writing (or a crashed one left)."""
    return select(catalog_versions.c.version).where(catalog_versions.c.published.is_(False))


def published_rows(table: Table = vacancies) -> ColumnElement[bool]:
    """``table``'s rows (vacancies) that belong to a published catalog version."""
    return table.c.catalog_version.not_in(unpublished_versions())


def served_rows() -> ColumnElement[bool]:
    """The vacancies served now: published and not retired."""
    return vacancies.c.retired_at.is_(None) & published_rows()
