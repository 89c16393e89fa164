"""Model registry on both databases: round trip, refusals, promote and rollback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sqlalchemy import Engine, select, update

from vacrec.agent.encoding import state_size
from vacrec.agent.network import QNetwork
from vacrec.agent.registry import (
    ModelRefused,
    RegistryError,
    list_models,
    live_version,
    load_live_model,
    load_model,
    promote,
    rollback,
    save_model,
)
from vacrec.store.tables import models

ACTIONS = ("Искусство", "ИТ", "Маркетинг")
SKILLS = ("акварель", "геймдев")


def _save(engine: Engine, seed: int = 0, actions=ACTIONS) -> tuple[int, QNetwork]:
    torch.manual_seed(seed)
    net = QNetwork(state_size(len(SKILLS)), len(actions), hidden=(16, 8))
    with engine.begin() as conn:
        version = save_model(conn, net, {"actions": list(actions), "skills": list(SKILLS)})
    return version, net


def test_saved_model_loads_with_the_same_q_values(engine: Engine):
    version, net = _save(engine)
    with engine.connect() as conn:
        model = load_model(conn, version, ACTIONS, SKILLS)
        meta = list_models(conn)[0].meta
    state = torch.tensor([[0.5, 0.0, 1.0]])
    np.testing.assert_allclose(
        model.q_values(57, "геймдев"), net(state)[0].detach().numpy(), rtol=1e-6
    )
    assert model.version == version
    assert meta["network"]["hidden"] == [16, 8] and meta["encoding_version"] == 1


def test_models_that_do_not_fit_are_refused_with_a_reason(engine: Engine):
    version, _ = _save(engine)
    with engine.connect() as conn:
        with pytest.raises(ModelRefused, match="action list"):
            load_model(conn, version, ("Искусство", "ИТ", "Продажи"), SKILLS)
        with pytest.raises(ModelRefused, match="skill vocabulary"):
            load_model(conn, version, ACTIONS, (*SKILLS, "живопись"))
    with engine.begin() as conn:
        meta = conn.execute(select(models.c.meta).where(models.c.version == version)).scalar_one()
        conn.execute(
            update(models)
            .where(models.c.version == version)
            .values(meta={**meta, "encoding_version": 99})
        )
    with engine.connect() as conn, pytest.raises(ModelRefused, match="encoding version"):
        load_model(conn, version, ACTIONS, SKILLS)


def test_corrupted_weights_fail_the_checksum_and_the_previous_model_stays_live(engine: Engine):
    good, _ = _save(engine, seed=1)
    bad, _ = _save(engine, seed=2)
    with engine.begin() as conn:
        promote(conn, good, "first")
        weights = conn.execute(select(models.c.weights).where(models.c.version == bad)).scalar_one()
        damaged = bytearray(weights)
        damaged[len(damaged) // 2] ^= 0xFF
        conn.execute(update(models).where(models.c.version == bad).values(weights=bytes(damaged)))
    with engine.connect() as conn:
        with pytest.raises(ModelRefused, match="checksum"):
            load_model(conn, bad, ACTIONS, SKILLS)
        assert load_live_model(conn, ACTIONS, SKILLS).version == good


def test_promote_and_rollback_walk_the_history(engine: Engine):
    v1, _ = _save(engine, seed=1)
    v2, _ = _save(engine, seed=2)
    v3, _ = _save(engine, seed=3)
    with engine.begin() as conn:
        assert live_version(conn) is None
        assert load_live_model(conn, ACTIONS, SKILLS) is None
        with pytest.raises(RegistryError, match="nothing to roll back"):
            rollback(conn)
        promote(conn, v1, "a")
        promote(conn, v2, "b")
        promote(conn, v2, "b again")  # re-promoting the live model is not a step
        promote(conn, v3, "c")
        assert live_version(conn) == v3
    with engine.begin() as conn:
        assert rollback(conn) == v2
        assert live_version(conn) == v2
    with engine.begin() as conn:
        assert rollback(conn) == v1  # further back, not back to v3
        assert live_version(conn) == v1
        with pytest.raises(RegistryError):
            rollback(conn)
        with pytest.raises(RegistryError, match="no model"):
            promote(conn, 999, "missing")
    with engine.connect() as conn:
        listed = list_models(conn)
    assert [m.version for m in listed] == [v1, v2, v3]
    assert [m.live for m in listed] == [True, False, False]
