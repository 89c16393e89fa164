"""The model registry's rows: stored weights with their metadata, and the promotion history.

Serialising a network, checking its checksum and deciding what a rollback
goes back to are :mod:`vacrec.app.registry`'s; this module only reads and
writes rows, so every replica sees the same models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select

from vacrec.store.db import utcnow
from vacrec.store.tables import model_promotions, models


class StoredModel(NamedTuple):
    """A model row without its weights, as listings show it."""

    version: int
    created_at: datetime
    checksum: str
    meta: Any  # the JSON as stored; the registry parses it


class StoredWeights(NamedTuple):
    """What loading a model needs: the bytes, their recorded checksum and the metadata."""

    weights: bytes
    checksum: str
    meta: Any


class PromotionRow(NamedTuple):
    """One row of the promotion history: which version (None: the content prior), how
    ("promote"/"rollback") and why."""

    version: int | None
    kind: str
    reason: str


def insert_model(conn: Connection, weights: bytes, checksum: str, meta: dict[str, Any]) -> int:
    """Store a model; returns its new version."""
    result = conn.execute(
        insert(models)
        .values(created_at=utcnow(), weights=weights, checksum=checksum, meta=meta)
        .returning(models.c.version)
    )
    return int(result.scalar_one())


def model_exists(conn: Connection, version: int) -> bool:
    return (
        conn.execute(select(models.c.version).where(models.c.version == version)).first()
        is not None
    )


def stored_weights(conn: Connection, version: int) -> StoredWeights | None:
    """The weights of ``version``, None when there is no such model."""
    row = conn.execute(
        select(models.c.weights, models.c.checksum, models.c.meta).where(
            models.c.version == version
        )
    ).one_or_none()
    return None if row is None else StoredWeights(bytes(row.weights), row.checksum, row.meta)


_LISTED = (models.c.version, models.c.created_at, models.c.checksum, models.c.meta)


def stored_models(conn: Connection) -> list[StoredModel]:
    """Every model, oldest first (weights left out)."""
    rows = conn.execute(select(*_LISTED).order_by(models.c.version))
    return [StoredModel(int(r.version), r.created_at, r.checksum, r.meta) for r in rows]


def newest_stored_model(conn: Connection) -> StoredModel | None:
    """The most recently saved model, promoted or not (weights left out)."""
    r = conn.execute(select(*_LISTED).order_by(models.c.version.desc()).limit(1)).one_or_none()
    return None if r is None else StoredModel(int(r.version), r.created_at, r.checksum, r.meta)


def promotion_history(conn: Connection) -> list[PromotionRow]:
    """Every promotion and rollback, in the order the database recorded them."""
    rows = conn.execute(
        select(
            model_promotions.c.version, model_promotions.c.kind, model_promotions.c.reason
        ).order_by(model_promotions.c.id)
    )
    return [PromotionRow(_version(r.version), str(r.kind), str(r.reason)) for r in rows]


def newest_promotion(conn: Connection) -> PromotionRow | None:
    """The promotion that decides what is live, None when nothing was ever promoted.

    "Newest" is by the table's sequence, not ``promoted_at``: hosts' clocks
    disagree, and a promotion from a host running behind must still win.
    """
    row = conn.execute(
        select(model_promotions.c.version, model_promotions.c.kind, model_promotions.c.reason)
        .order_by(model_promotions.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PromotionRow(_version(row.version), str(row.kind), str(row.reason))


def _version(value: Any) -> int | None:
    return None if value is None else int(value)


def insert_promotion(conn: Connection, version: int | None, reason: str, kind: str) -> None:
    """Append one promotion; ``version`` None makes the content prior live."""
    conn.execute(
        insert(model_promotions).values(
            version=version, promoted_at=utcnow(), reason=reason, kind=kind
        )
    )
