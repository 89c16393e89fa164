"""Model registry in the store, so every replica sees the same models.

A model row holds the weights (``torch.save`` of the state dict), their sha256
and metadata: action list, skill vocabulary, encoding version, network sizes,
training data range, metrics and a down-sampled loss curve. Promotions are an
append-only history; the live model is the newest promotion, and rollback pops
that history like a stack. Loading re-checks everything, and a model that does
not fit the current catalog, vocabulary or encoding, or whose bytes are damaged,
is refused with :class:`ModelRefused` so the caller keeps serving the previous one.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import torch
from sqlalchemy import Connection, insert, select

from vacrec.agent.encoding import ENCODING_VERSION, state_size
from vacrec.agent.network import QNetwork
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
    meta: dict[str, Any]


def weights_bytes(network: QNetwork) -> bytes:
    """The network's state dict serialised with ``torch.save``."""
    buffer = io.BytesIO()
    torch.save(network.state_dict(), buffer)
    return buffer.getvalue()


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(conn: Connection, network: QNetwork, meta: dict[str, Any]) -> int:
    """Store a trained network with its metadata; returns the new version (not promoted)."""
    for key in ("actions", "skills"):
        if not isinstance(meta.get(key), list | tuple) or not meta[key]:
            raise ValueError(f"meta[{key!r}] must be a non-empty list")
    if len(meta["actions"]) != network.n_actions:
        raise ValueError(f"{network.n_actions} network outputs but {len(meta['actions'])} actions")
    data = weights_bytes(network)
    digest = checksum(data)
    full_meta = {
        **meta,
        "actions": list(meta["actions"]),
        "skills": list(meta["skills"]),
        "encoding_version": meta.get("encoding_version", ENCODING_VERSION),
        "network": {
            "input_dim": network.input_dim,
            "n_actions": network.n_actions,
            "hidden": list(network.hidden),
        },
        "checksum": digest,
    }
    result = conn.execute(
        insert(models)
        .values(created_at=utcnow(), weights=data, checksum=digest, meta=full_meta)
        .returning(models.c.version)
    )
    return int(result.scalar_one())


def _history(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(
        select(model_promotions.c.version, model_promotions.c.kind).order_by(
            model_promotions.c.promoted_at, model_promotions.c.id
        )
    )
    return [(int(v), str(k)) for v, k in rows]


def live_version(conn: Connection) -> int | None:
    """The version served now: the newest promotion (cheap; polled by every replica)."""
    return conn.execute(
        select(model_promotions.c.version)
        .order_by(model_promotions.c.promoted_at.desc(), model_promotions.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


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


def _meta_mismatch(
    meta: dict[str, Any], actions: Sequence[str], skills: Sequence[str]
) -> str | None:
    if meta.get("encoding_version") != ENCODING_VERSION:
        return (
            f"state encoding version {meta.get('encoding_version')!r} "
            f"does not match this build's {ENCODING_VERSION}"
        )
    stored_actions = list(meta.get("actions") or [])
    if stored_actions != list(actions):
        missing = sorted(set(actions) - set(stored_actions))
        extra = sorted(set(stored_actions) - set(actions))
        detail = f"missing {missing[:3]}, unknown {extra[:3]}" if missing or extra else "reordered"
        return (
            f"action list does not match the catalog ({len(stored_actions)} vs "
            f"{len(actions)} industries; {detail})"
        )
    if list(meta.get("skills") or []) != list(skills):
        return f"skill vocabulary does not match ({len(meta.get('skills') or [])} vs {len(skills)})"
    return None


def load_model(
    conn: Connection, version: int, actions: Sequence[str], skills: Sequence[str]
) -> QModel:
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
    meta = dict(row.meta or {})
    problem = _meta_mismatch(meta, actions, skills)
    if problem:
        raise ModelRefused(f"model {version}: {problem}")
    sizes = meta.get("network") or {}
    try:
        network = QNetwork(
            int(sizes.get("input_dim", state_size(len(skills)))),
            len(actions),
            tuple(sizes.get("hidden", ())) or (128, 64),
        )
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except Exception as error:  # any unreadable or mis-shaped weights
        raise ModelRefused(f"model {version}: weights do not load ({error})") from error
    if network.input_dim != state_size(len(skills)):
        raise ModelRefused(f"model {version}: input size does not fit {len(skills)} skills")
    return QModel(network, actions, skills, version=version)


def load_live_model(
    conn: Connection, actions: Sequence[str], skills: Sequence[str]
) -> QModel | None:
    """The live model, None when nothing was promoted, :class:`ModelRefused` when unusable."""
    version = live_version(conn)
    return None if version is None else load_model(conn, version, actions, skills)


def list_models(conn: Connection) -> list[ModelInfo]:
    """Every registered model, oldest first, with the live one marked."""
    live = live_version(conn)
    rows = conn.execute(
        select(models.c.version, models.c.created_at, models.c.checksum, models.c.meta).order_by(
            models.c.version
        )
    )
    return [
        ModelInfo(int(r.version), r.created_at, r.checksum, r.version == live, dict(r.meta or {}))
        for r in rows
    ]


def newest_version(conn: Connection) -> int | None:
    """The most recently saved model, promoted or not (the candidate)."""
    return conn.execute(
        select(models.c.version).order_by(models.c.version.desc()).limit(1)
    ).scalar_one_or_none()
