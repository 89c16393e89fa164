"""Model registry on both databases: round trip, refusals, promote and rollback."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, select, update

from tests.agent.agent_fixtures import (
    ART_WORDS,
    IT,
    IT_WORDS,
    MKT,
    MKT_WORDS,
    bandit_log,
    catalog_records,
    encoder,
    snapshot,
)
from vacrec.agent.context import ENCODING_VERSION, ContextEncoder, Contexts
from vacrec.agent.model_meta import Estimate, ModelMeta, PromotionRecord, TrainingData
from vacrec.agent.policy import QModel
from vacrec.agent.trainer import TrainConfig, train
from vacrec.app.registry import (
    ModelRefused,
    RegistryError,
    list_models,
    live_version,
    load_live_model,
    load_model,
    newest_version,
    promote,
    promote_prior,
    rollback,
    save_model,
)
from vacrec.store.db import utcnow
from vacrec.store.model_rows import promotion_history
from vacrec.store.tables import model_promotions, models

SMALL = tuple(r for r in catalog_records() if MKT not in r.industries)
"""The catalog before it gained the marketing group (IT and art only)."""


@pytest.fixture(scope="module")
def small_encoder() -> ContextEncoder:
    return encoder(snapshot(SMALL))


@pytest.fixture(scope="module")
def trained(small_encoder: ContextEncoder) -> QModel:
    """A model trained on the IT-and-art catalog (a few updates: enough to move every part)."""
    seekers = [("акварель", ART_WORDS, IT), ("геймдев", IT_WORDS, IT)]
    log = bandit_log(small_encoder, seekers, n=60, seed=3)
    config = TrainConfig(batch_size=16, updates=30, hidden=(16, 8), embedding_dim=4, seed=2)
    return train(log, config).model


def _seekers(enc: ContextEncoder) -> Contexts:
    return enc.encode(
        [20, 40, 70], ["акварель", "геймдев", "живопись"], [ART_WORDS, IT_WORDS, MKT_WORDS]
    )


def _save(engine: Engine, model: QModel, meta: ModelMeta | None = None) -> int:
    with engine.begin() as conn:
        return save_model(conn, model, meta or ModelMeta())


def _set_meta(engine: Engine, version: int, **changes: object) -> None:
    with engine.begin() as conn:
        meta = conn.execute(select(models.c.meta).where(models.c.version == version)).scalar_one()
        conn.execute(
            update(models).where(models.c.version == version).values(meta={**meta, **changes})
        )


def test_saved_model_loads_with_identical_q_values(
    engine: Engine, trained: QModel, small_encoder: ContextEncoder
):
    version = _save(engine, trained)

    with engine.connect() as conn:
        loaded = load_model(conn, version)

    contexts = _seekers(small_encoder)
    np.testing.assert_array_equal(loaded.q_values(contexts), trained.q_values(contexts))
    assert loaded.version == version
    assert loaded.skills == trained.skills and loaded.industries == trained.industries
    assert loaded.network.hidden == (16, 8) and loaded.network.embedding_dim == 4


def test_save_fills_the_meta_and_keeps_what_the_caller_gave(engine: Engine, trained: QModel):
    given = ModelMeta(
        final_loss=0.125,
        data=TrainingData(transitions=60, dropped={"unknown_industry": 2}),
        dr_difference=Estimate(value=0.1, low=0.02, high=0.2, n=60),
        promotion=PromotionRecord(promoted=True, reason="better", champion="content prior"),
        loss_curve=[0.5, 0.25],
        encoding_version=-1,  # the registry, not the caller, says which encoding it is
    )
    version = _save(engine, trained, given)

    with engine.connect() as conn:
        (info,) = list_models(conn)

    meta = info.meta
    assert isinstance(meta, ModelMeta)
    assert meta.encoding_version == ENCODING_VERSION
    assert meta.skills == list(trained.skills) and meta.industries == list(trained.industries)
    assert meta.network is not None and meta.network.hidden == [16, 8]
    assert meta.network.embedding_dim == 4
    assert meta.checksum == info.checksum and len(info.checksum) == 64
    assert meta.final_loss == 0.125 and meta.loss_curve == [0.5, 0.25]
    assert meta.data.dropped == {"unknown_industry": 2}
    assert meta.dr_difference == Estimate(value=0.1, low=0.02, high=0.2, n=60)
    assert meta.promotion.champion == "content prior"
    assert (info.version, info.live) == (version, False)


def test_damaged_weights_fail_the_checksum_and_the_previous_model_stays_live(
    engine: Engine, trained: QModel
):
    good = _save(engine, trained)
    bad = _save(engine, trained)
    with engine.begin() as conn:
        promote(conn, good, "first")
        weights = conn.execute(select(models.c.weights).where(models.c.version == bad)).scalar_one()
        damaged = bytearray(weights)
        damaged[len(damaged) // 2] ^= 0xFF
        conn.execute(update(models).where(models.c.version == bad).values(weights=bytes(damaged)))

    with engine.connect() as conn:
        with pytest.raises(ModelRefused, match="checksum"):
            load_model(conn, bad)
        live = load_live_model(conn)
    assert live is not None and live.version == good


@pytest.mark.parametrize("encoding", [1, 2, 6, 99, None])
def test_a_model_of_another_encoding_is_refused_naming_the_version(
    engine: Engine, trained: QModel, encoding: int | None
):
    version = _save(engine, trained)
    _set_meta(engine, version, encoding_version=encoding)

    with engine.connect() as conn, pytest.raises(ModelRefused) as refused:
        load_model(conn, version)

    message = str(refused.value)
    assert f"encoding version {encoding!r}" in message
    assert f"this build's {ENCODING_VERSION}" in message


def test_unreadable_meta_is_listed_as_none_and_refused(engine: Engine, trained: QModel):
    readable = _save(engine, trained)
    unreadable = _save(engine, trained)
    _set_meta(engine, unreadable, skills="not a list", network={"hidden": "wide"})

    with engine.connect() as conn:
        listed = {info.version: info.meta for info in list_models(conn)}
        with pytest.raises(ModelRefused, match="cannot read"):
            load_model(conn, unreadable)

    assert isinstance(listed[readable], ModelMeta) and listed[unreadable] is None


def test_weights_that_do_not_fit_the_meta_are_refused(engine: Engine, trained: QModel):
    version = _save(engine, trained)
    _set_meta(engine, version, skills=["акварель"])  # one skill fewer than the weights have

    with engine.connect() as conn, pytest.raises(ModelRefused, match="do not load"):
        load_model(conn, version)


def test_a_missing_version_is_refused(engine: Engine):
    with engine.connect() as conn, pytest.raises(ModelRefused, match="not in the registry"):
        load_model(conn, 42)


def test_a_model_still_serves_after_the_catalog_gains_an_industry(engine: Engine, trained: QModel):
    """A new group is no reason to refuse a model: it is scored from its content."""
    assert MKT not in trained.industries
    version = _save(engine, trained)
    grown = encoder(snapshot())  # the catalog now has marketing too

    with engine.connect() as conn:
        model = load_model(conn, version)

    q = model.q_values(_seekers(grown))
    assert q.shape == (3, 3) and np.isfinite(q).all()
    mkt = grown.actions.index(MKT)
    typed = model.q_values(grown.encode([30], ["живопись"], [MKT_WORDS]))[0, mkt]
    silent = model.q_values(grown.encode([30], ["живопись"], [""]))[0, mkt]
    assert typed > silent  # writing about marketing raises the group the model never saw
    # the groups it knew keep their learned identities; only the newcomer is "unknown"
    known = {name: i + 1 for i, name in enumerate(trained.industries)}
    assert model.industry_ids(grown.actions).tolist() == [known.get(a, 0) for a in grown.actions]
    assert sorted(model.industry_ids(grown.actions).tolist()) == [0, 1, 2]


def test_promote_and_rollback_walk_the_history_as_a_stack(engine: Engine, trained: QModel):
    v1, v2, v3 = (_save(engine, trained) for _ in range(3))
    with engine.begin() as conn:
        assert live_version(conn) is None
        assert load_live_model(conn) is None
        assert newest_version(conn) == v3
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
        with pytest.raises(RegistryError, match="no model"):
            promote(conn, 999, "missing")
    with engine.connect() as conn:
        listed = list_models(conn)
        live = load_live_model(conn)
    assert [m.version for m in listed] == [v1, v2, v3]
    assert [m.live for m in listed] == [True, False, False]
    assert live is not None and live.version == v1
    with engine.begin() as conn:
        assert rollback(conn) is None  # under the first model: the content prior
        assert live_version(conn) is None and load_live_model(conn) is None
        with pytest.raises(RegistryError, match="nothing to roll back"):
            rollback(conn)


def test_a_promotion_after_a_rollback_pushes_onto_the_stack(engine: Engine, trained: QModel):
    v1, v2, v3 = (_save(engine, trained) for _ in range(3))
    with engine.begin() as conn:
        promote(conn, v1, "a")
        promote(conn, v2, "b")
        assert rollback(conn, "bad model") == v1
        promote(conn, v3, "c")
    with engine.begin() as conn:
        assert rollback(conn) == v1  # v2 was popped for good
        assert live_version(conn) == v1


def test_the_newest_promotion_wins_even_from_a_host_whose_clock_runs_behind(
    engine: Engine, trained: QModel
):
    v1, v2 = (_save(engine, trained) for _ in range(2))
    with engine.begin() as conn:
        promote(conn, v1, "from a host an hour ahead")
        # What a host whose clock is an hour ahead leaves behind.
        conn.execute(update(model_promotions).values(promoted_at=utcnow() + timedelta(hours=1)))
    with engine.begin() as conn:
        promote(conn, v2, "from this host")
        assert live_version(conn) == v2
    with engine.begin() as conn:
        assert rollback(conn) == v1
        assert live_version(conn) == v1


def test_rollback_walks_back_to_the_content_prior_after_two_promotions(
    engine: Engine, trained: QModel
):
    """The issue's sequence: once two models were promoted, rollback refused and nothing
    returned the service to the content prior."""
    a, b = (_save(engine, trained) for _ in range(2))
    with engine.begin() as conn:
        promote(conn, a, "a")
        promote(conn, b, "b")
    with engine.begin() as conn:
        assert rollback(conn) == a and live_version(conn) == a
    with engine.begin() as conn:
        assert rollback(conn) is None and live_version(conn) is None
        with pytest.raises(RegistryError, match="nothing to roll back to: the content prior"):
            rollback(conn)
    with engine.begin() as conn:
        promote_prior(conn, "operator")  # the prior already serves: no step to undo
        assert live_version(conn) is None
        with pytest.raises(RegistryError, match="nothing to roll back"):
            rollback(conn)
    with engine.begin() as conn:
        promote(conn, b, "b again")
        promote_prior(conn, "b hurts seekers")
        assert live_version(conn) is None
    with engine.begin() as conn:
        assert rollback(conn) == b  # back to the model the prior replaced
        assert live_version(conn) == b
    with engine.begin() as conn:
        assert rollback(conn) is None  # b was pushed onto the prior, not onto a


def test_promote_prior_at_any_time_and_rollback_returns_to_the_previous_model(
    engine: Engine, trained: QModel
):
    a, b = (_save(engine, trained) for _ in range(2))
    with engine.begin() as conn:
        promote_prior(conn, "before any model")  # harmless: the prior serves already
        promote(conn, a, "a")
        promote(conn, b, "b")
        promote_prior(conn, "back to the words")
    with engine.connect() as conn:
        assert live_version(conn) is None and load_live_model(conn) is None
        assert [m.live for m in list_models(conn)] == [False, False]
    with engine.begin() as conn:
        assert rollback(conn, "prior was worse") == b
    with engine.begin() as conn:
        assert rollback(conn) == a
    with engine.begin() as conn:
        assert rollback(conn) is None
    with engine.connect() as conn:
        history = [(row.version, row.kind) for row in promotion_history(conn)]
    assert history == [
        (None, "promote"),
        (a, "promote"),
        (b, "promote"),
        (None, "promote"),
        (b, "rollback"),
        (a, "rollback"),
        (None, "rollback"),
    ]


def test_a_diverged_loss_is_stored_as_null_and_the_model_still_loads(
    engine: Engine, trained: QModel
):
    """PostgreSQL's JSON refuses NaN: a NaN loss once made saving the model fail there."""
    meta = ModelMeta(final_loss=float("nan"), loss_curve=[0.5, float("nan"), float("inf")])
    version = _save(engine, trained, meta.model_copy(update={"training": {"rate": float("inf")}}))
    with engine.connect() as conn:
        raw = conn.execute(select(models.c.meta).where(models.c.version == version)).scalar_one()
        (info,) = list_models(conn)
        load_model(conn, version)
    assert raw["final_loss"] is None and raw["loss_curve"] == [0.5, None, None]
    assert raw["training"] == {"rate": None}
    assert info.meta is not None and info.meta.final_loss is None
