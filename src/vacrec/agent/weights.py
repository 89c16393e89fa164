"""A Q-model as bytes and back: the weights a registry stores, and the checks on loading them.

``torch.save`` of the network's state dict, its sha256, and a :class:`ModelMeta` that says
what the network was built for. A model whose encoding is not this build's, or whose bytes
are damaged, is refused with :class:`ModelRefused` so the caller keeps serving what it
served. Where the bytes are kept is the application layer's (``vacrec.app.registry``).
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import torch

from vacrec.agent.context import ENCODING_VERSION, N_CONTENT
from vacrec.agent.model_meta import ModelMeta, NetworkShape
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel


class ModelRefused(Exception):
    """A stored model that must not be served; the message says why."""


def weights_bytes(network: ContextualQNetwork) -> bytes:
    """The network's state dict serialised with ``torch.save``."""
    buffer = io.BytesIO()
    torch.save(network.state_dict(), buffer)
    return buffer.getvalue()


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe(model: QModel, meta: ModelMeta, digest: str) -> ModelMeta:
    """``meta`` completed with what ``model`` was built for and the checksum of its weights."""
    network = model.network
    return meta.model_copy(
        update={
            "skills": list(model.skills),
            "industries": list(model.industries),
            "encoding_version": ENCODING_VERSION,
            "network": NetworkShape(
                hidden=list(network.hidden),
                embedding_dim=network.embedding_dim,
                content_columns=network.n_content,
            ),
            "checksum": digest,
        }
    )


def model_from_weights(
    version: int, data: bytes, digest: str, stored_meta: dict[str, Any] | None
) -> QModel:
    """The model stored as ``data`` (with its recorded ``digest`` and metadata), or
    :class:`ModelRefused` saying why it must not be served."""
    if checksum(data) != digest:
        raise ModelRefused(f"model {version}: weights checksum mismatch (damaged weights)")
    raw = dict(stored_meta or {})
    if raw.get("encoding_version") != ENCODING_VERSION:
        raise ModelRefused(
            f"model {version}: state encoding version {raw.get('encoding_version')!r} "
            f"does not match this build's {ENCODING_VERSION}"
        )
    meta = ModelMeta.parse(raw)
    if meta is None or meta.network is None:
        raise ModelRefused(f"model {version}: metadata this build cannot read")
    if meta.network.content_columns != N_CONTENT:
        raise ModelRefused(
            f"model {version}: trained on {meta.network.content_columns} content columns, "
            f"this build's context has {N_CONTENT}"
        )
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
