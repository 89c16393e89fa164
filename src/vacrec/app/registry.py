"""Model registry in the store, so every replica sees the same models.

A model row holds the weights (``torch.save`` of the state dict, see
:mod:`vacrec.agent.weights`), their sha256 and a
:class:`~vacrec.agent.model_meta.ModelMeta`: the skills and industries the
network has embeddings for, encoding version, network sizes, training data
range, metrics, off-policy estimates and a down-sampled loss curve. Promotions
are an append-only history; the live model is the newest promotion, and
rollback pops that history like a stack. The content prior is a promotion too
(a row naming no model): it is at the bottom of the stack before anything was
promoted, and an operator can make it live at any time (:func:`promote_prior`).
A model whose encoding is not this build's, or whose bytes are damaged, is
refused with :class:`ModelRefused` so the caller keeps serving what it served.
A catalog that gained or lost groups is no reason to refuse one: unknown
industries are scored from their content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.policy import QModel
from vacrec.agent.weights import ModelRefused, checksum, describe, model_from_weights, weights_bytes
from vacrec.finite import finite_json
from vacrec.store.model_rows import (
    StoredModel,
    insert_model,
    insert_promotion,
    model_exists,
    newest_promotion,
    newest_stored_model,
    promotion_history,
    stored_models,
    stored_weights,
)

__all__ = [
    "ModelInfo",
    "ModelRefused",
    "RegistryError",
    "list_models",
    "live_version",
    "load_live_model",
    "load_model",
    "newest_model",
    "newest_version",
    "promote",
    "rollback",
    "save_model",
]

PROMOTE, ROLLBACK = "promote", "rollback"


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


def save_model(conn: Connection, model: QModel, meta: ModelMeta) -> int:
    """Store a trained model with its metadata; returns the new version (not promoted)."""
    data = weights_bytes(model.network)
    digest = checksum(data)
    full_meta = describe(model, meta, digest)
    # finite_json: a JSON column (PostgreSQL's) refuses NaN anywhere, e.g. in the timings
    return insert_model(conn, data, digest, finite_json(full_meta.model_dump(mode="json")))


def live_version(conn: Connection) -> int | None:
    """The version served now, None: the content prior (cheap; polled by every replica)."""
    newest = newest_promotion(conn)
    return None if newest is None else newest.version


def promote(conn: Connection, version: int, reason: str, kind: str = PROMOTE) -> None:
    """Make ``version`` live from now on (replicas pick it up on their next poll)."""
    if not model_exists(conn, version):
        raise RegistryError(f"version: no model with version {version}")
    insert_promotion(conn, version, reason, kind)


def promote_prior(conn: Connection, reason: str) -> None:
    """Make the content prior serve from now on (replicas follow on their next poll).

    A promotion like any other, so a later rollback returns to the model it replaced.
    """
    insert_promotion(conn, None, reason, PROMOTE)


def rollback(conn: Connection, reason: str = "rollback") -> int | None:
    """Go back to what served before the live promotion; returns it (None: the content prior).

    The promotion history is replayed as a stack (a promotion pushes, a rollback
    pops), so repeated rollbacks walk further back instead of flip-flopping. The
    content prior is the stack's bottom: rolling back the first promoted model
    returns to it, and only with the prior serving and nothing under it is there
    nothing to roll back to.
    """
    stack: list[int | None] = [None]  # before any promotion the content prior serves
    for version, kind, _ in promotion_history(conn):
        if kind == ROLLBACK:
            if len(stack) > 1:
                stack.pop()
        elif stack[-1] != version:  # re-promoting what is live is no step
            stack.append(version)
    if len(stack) < 2:
        raise RegistryError("nothing to roll back to: the content prior serves")
    target, current = stack[-2], stack[-1]
    insert_promotion(conn, target, f"{reason} (from {serving_name(current)})", ROLLBACK)
    return target


def serving_name(version: int | None) -> str:
    """How people read what serves: "version 3" or "the content prior"."""
    return "the content prior" if version is None else f"version {version}"


def load_model(conn: Connection, version: int) -> QModel:
    """Load ``version`` for serving, or raise :class:`ModelRefused` saying why not."""
    row = stored_weights(conn, version)
    if row is None:
        raise ModelRefused(f"model {version}: not in the registry")
    return model_from_weights(version, row.weights, row.checksum, row.meta)


def load_live_model(conn: Connection) -> QModel | None:
    """The live model, None when nothing was promoted, :class:`ModelRefused` when unusable."""
    version = live_version(conn)
    return None if version is None else load_model(conn, version)


def list_models(conn: Connection) -> list[ModelInfo]:
    """Every registered model, oldest first, with the live one marked."""
    live = live_version(conn)
    return [_info(row, live) for row in stored_models(conn)]


def newest_version(conn: Connection) -> int | None:
    """The most recently saved model, promoted or not (the candidate)."""
    newest = newest_stored_model(conn)
    return None if newest is None else newest.version


def newest_model(conn: Connection) -> ModelInfo | None:
    """The most recently saved model with its metadata, promoted or not."""
    newest = newest_stored_model(conn)
    return None if newest is None else _info(newest, live_version(conn))


def _info(row: StoredModel, live: int | None) -> ModelInfo:
    return ModelInfo(
        row.version, row.created_at, row.checksum, row.version == live, ModelMeta.parse(row.meta)
    )
