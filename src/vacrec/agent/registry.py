"""Model registry in the store, so every replica sees the same models.

A model row holds the weights (``torch.save`` of the state dict), their sha256
and a :class:`~vacrec.agent.model_meta.ModelMeta`: the skills and industries the
network has embeddings for, encoding version, network sizes, training data
range, metrics, off-policy estimates and a down-sampled loss curve. Promotions
are an append-only history; the live model is the newest promotion, and
rollback pops that history like a stack. A model whose encoding is not this
build's, or whose bytes are damaged, is refused with :class:`ModelRefused` so
the caller keeps serving what it served. A catalog that gained or lost groups
is no reason to refuse one: unknown industries are scored from their content.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import torch
from sqlalchemy import Connection, insert, select

from vacrec.agent.context import ENCODING_VERSION
from vacrec.agent.model_meta import ModelMeta, NetworkShape
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.store.db import utcnow
from vacrec.store.tables import model_promotions, models

PROMOTE, ROLLBACK = "promote", "rollback"


class ModelRefused(Exception):
    """A stored model that must not be served; the message says why."""


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown version, nothing to roll back to)."""


@dataclass(frozen=True)
class ModelInfo:
    """One registered model as listed for people and the dashboard."""

    version: int
    created_at: datetime
    checksum: str
    live: bool
    meta: ModelMeta | None  # None: metadata this build cannot read


def weights_bytes(network: ContextualQNetwork) -> bytes:
    """The network's state dict serialised with ``torch.save``."""
    buffer = io.BytesIO()
    torch.save(network.state_dict(), buffer)
    return buffer.getvalue()


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(conn: Connection, model: QModel, meta: ModelMeta) -> int:
    """Store a trained model with its metadata; returns the new version (not promoted)."""
    network = model.network
    data = weights_bytes(network)
    digest = checksum(data)
    full_meta = meta.model_copy(
        update={
            "skills": list(model.skills),
            "industries": list(model.industries),
            "encoding_version": ENCODING_VERSION,
            "network": NetworkShape(
                hidden=list(network.hidden), embedding_dim=network.embedding_dim
            ),
            "checksum": digest,
        }
    )
    result = conn.execute(
        insert(models)
        .values(
            created_at=utcnow(),
            weights=data,
            checksum=digest,
            meta=full_meta.model_dump(mode="json"),
        )
        .returning(models.c.version)
    )
    return int(result.scalar_one())


def _history(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(
        select(model_promotions.c.version, model_promotions.c.kind).order_by(model_promotions.c.id)
    )
    return [(int(v), str(k)) for v, k in rows]


class PromotionRow(NamedTuple):
    """The newest row of the promotion history: which version, how and why."""

    version: int
    kind: str
    reason: str


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
    return None if row is None else PromotionRow(int(row.version), str(row.kind), str(row.reason))


def live_version(conn: Connection) -> int | None:
    """The version served now (cheap; polled by every replica)."""
    newest = newest_promotion(conn)
    return None if newest is None else newest.version


def promote(conn: Connection, version: int, reason: str, kind: str = PROMOTE) -> None:
    """Make ``version`` live from now on (replicas pick it up on their next poll)."""
    exists = conn.execute(select(models.c.version).where(models.c.version == version)).first()
    if exists is None:
        raise RegistryError(f"version: no model with version {version}")
    conn.execute(
        insert(model_promotions).values(
            version=version, promoted_at=utcnow(), reason=reason, kind=kind
        )
    )


def rollback(conn: Connection, reason: str = "rollback") -> int:
    """Go back to the previously promoted version; returns it.

    The promotion history is replayed as a stack (a promotion pushes, a rollback
    pops), so repeated rollbacks walk further back instead of flip-flopping.
    """
    stack: list[int] = []
    for version, kind in _history(conn):
        if kind == ROLLBACK:
            if stack:
                stack.pop()
        elif not stack or stack[-1] != version:  # re-promoting the live version is no step
            stack.append(version)
    if len(stack) < 2:
        raise RegistryError("nothing to roll back to: fewer than two promoted versions")
    target, current = stack[-2], stack[-1]
    conn.execute(
        insert(model_promotions).values(
            version=target,
            promoted_at=utcnow(),
            reason=f"{reason} (from version {current})",
            kind=ROLLBACK,
        )
    )
    return target


def load_model(conn: Connection, version: int) -> QModel:
    """Load ``version`` for serving, or raise :class:`ModelRefused` saying why not."""
    row = conn.execute(
        select(models.c.weights, models.c.checksum, models.c.meta).where(
            models.c.version == version
        )
    ).one_or_none()
    if row is None:
        raise ModelRefused(f"model {version}: not in the registry")
    data = bytes(row.weights)
    if checksum(data) != row.checksum:
        raise ModelRefused(f"model {version}: weights checksum mismatch (damaged weights)")
    raw = dict(row.meta or {})
    if raw.get("encoding_version") != ENCODING_VERSION:
        raise ModelRefused(
            f"model {version}: state encoding version {raw.get('encoding_version')!r} "
            f"does not match this build's {ENCODING_VERSION}"
        )
    meta = ModelMeta.parse(raw)
    if meta is None or meta.network is None:
        raise ModelRefused(f"model {version}: metadata this build cannot read")
    try:
        network = ContextualQNetwork(
            len(meta.skills),
            len(meta.industries),
            tuple(meta.network.hidden),
            meta.network.embedding_dim,
        )
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except Exception as error:  # any unreadable or mis-shaped weights
        raise ModelRefused(f"model {version}: weights do not load ({error})") from error
    return QModel(network, meta.skills, meta.industries, version=version)


def load_live_model(conn: Connection) -> QModel | None:
    """The live model, None when nothing was promoted, :class:`ModelRefused` when unusable."""
    version = live_version(conn)
    return None if version is None else load_model(conn, version)


def list_models(conn: Connection) -> list[ModelInfo]:
    """Every registered model, oldest first, with the live one marked."""
    live = live_version(conn)
    rows = conn.execute(
        select(models.c.version, models.c.created_at, models.c.checksum, models.c.meta).order_by(
            models.c.version
        )
    )
    return [
        ModelInfo(
            int(r.version), r.created_at, r.checksum, r.version == live, ModelMeta.parse(r.meta)
        )
        for r in rows
    ]


def newest_version(conn: Connection) -> int | None:
    """The most recently saved model, promoted or not (the candidate)."""
    return conn.execute(
        select(models.c.version).order_by(models.c.version.desc()).limit(1)
    ).scalar_one_or_none()


def newest_model(conn: Connection) -> ModelInfo | None:
    """The most recently saved model with its metadata, promoted or not."""
    live = live_version(conn)
    row = conn.execute(
        select(models.c.version, models.c.created_at, models.c.checksum, models.c.meta)
        .order_by(models.c.version.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return None
    return ModelInfo(
        int(row.version),
        row.created_at,
        row.checksum,
        row.version == live,
        ModelMeta.parse(row.meta),
    )
