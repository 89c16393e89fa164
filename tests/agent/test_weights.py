"""A stored model's feature signature: the width of the content row it was trained on."""

from __future__ import annotations

import pytest

from vacrec.agent.context import N_CONTENT
from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.agent.weights import (
    ModelRefused,
    checksum,
    describe,
    model_from_weights,
    weights_bytes,
)


def _stored(n_content: int) -> tuple[bytes, str, ModelMeta]:
    network = ContextualQNetwork(2, 3, hidden=(8,), embedding_dim=2, n_content=n_content)
    model = QModel(network, ["a", "b"], ["x", "y", "z"])
    data = weights_bytes(network)
    return data, checksum(data), describe(model, ModelMeta(), checksum(data))


def test_the_context_width_is_kept_and_a_model_of_this_width_loads() -> None:
    data, digest, meta = _stored(N_CONTENT)

    assert meta.network is not None and meta.network.content_columns == N_CONTENT
    loaded = model_from_weights(1, data, digest, meta.model_dump())
    assert loaded.network.n_content == N_CONTENT


def test_a_model_trained_on_another_context_width_is_refused_naming_both() -> None:
    data, digest, meta = _stored(N_CONTENT + 3)

    with pytest.raises(ModelRefused) as refused:
        model_from_weights(1, data, digest, meta.model_dump())
    assert f"{N_CONTENT + 3} content columns" in str(refused.value)
    assert f"has {N_CONTENT}" in str(refused.value)


def test_a_row_stored_before_the_width_was_kept_reads_as_the_seven_columns() -> None:
    data, digest, meta = _stored(N_CONTENT)
    raw = meta.model_dump()
    del raw["network"]["content_columns"]

    assert model_from_weights(1, data, digest, raw).network.n_content == N_CONTENT
