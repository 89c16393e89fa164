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

import torch
from sqlalchemy import Connection

from vacrec.agent.context import ENCODING_VERSION
from vacrec.agent.model_meta import ModelMeta, NetworkShape
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.store.models import (
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
    return insert_model(conn, data, digest, full_meta.model_dump(mode="json"))


def live_version(conn: Connection) -> int | None:
    """The version served now (cheap; polled by every replica)."""
    newest = newest_promotion(conn)
    return None if newest is None else newest.version


def promote(conn: Connection, version: int, reason: str, kind: str = PROMOTE) -> None:
    """Make ``version`` live from now on (replicas pick it up on their next poll)."""
    if not model_exists(conn, version):
        raise RegistryError(f"version: no model with version {version}")
    insert_promotion(conn, version, reason, kind)


def rollback(conn: Connection, reason: str = "rollback") -> int:
    """Go back to the previously promoted version; returns it.

    The promotion history is replayed as a stack (a promotion pushes, a rollback
    pops), so repeated rollbacks walk further back instead of flip-flopping.
    """
    stack: list[int] = []
    for version, kind, _ in promotion_history(conn):
        if kind == ROLLBACK:
            if stack:
                stack.pop()
        elif not stack or stack[-1] != version:  # re-promoting the live version is no step
            stack.append(version)
    if len(stack) < 2:
        raise RegistryError("nothing to roll back to: fewer than two promoted versions")
    target, current = stack[-2], stack[-1]
    insert_promotion(conn, target, f"{reason} (from version {current})", ROLLBACK)
    return target


def load_model(conn: Connection, version: int) -> QModel:
    """Load ``version`` for serving, or raise :class:`ModelRefused` saying why not."""
    row = stored_weights(conn, version)
    if row is None:
        raise ModelRefused(f"model {version}: not in the registry")
    data = row.weights
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
