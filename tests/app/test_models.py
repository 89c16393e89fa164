"""A serving worker logs each switch of its live model: from which version, to which, why."""

from __future__ import annotations

import logging

import pytest
import torch
from sqlalchemy import Engine, delete

from tests.service.conftest import INDUSTRIES
from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.app.models import ModelHolder
from vacrec.app.registry import promote, promote_prior, rollback, save_model
from vacrec.domain import SkillVocabulary
from vacrec.store.tables import model_promotions


def _save(engine: Engine) -> int:
    """Register a (randomly initialised) model through the real registry, not promoted."""
    torch.manual_seed(0)
    skills = SkillVocabulary().skills
    model = QModel(ContextualQNetwork(len(skills), len(INDUSTRIES)), skills, INDUSTRIES)
    with engine.begin() as conn:
        return save_model(conn, model, ModelMeta())


def _switches(holder: ModelHolder, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Poll once; the INFO lines the holder logged meanwhile."""
    caplog.clear()
    holder.refresh_if_changed()
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "vacrec.app.models" and r.levelno == logging.INFO
    ]


def test_each_switch_is_one_info_line_with_versions_and_reason(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vacrec.app.models")
    holder = ModelHolder(sqlite_engine, poll_s=60)
    assert _switches(holder, caplog) == []  # nothing promoted: the prior serves, as it did

    first, second = _save(sqlite_engine), _save(sqlite_engine)
    with sqlite_engine.begin() as conn:
        promote(conn, first, "manual promote")
    assert _switches(holder, caplog) == [
        f"serving model version {first} instead of the content prior (promote: manual promote)"
    ]
    assert _switches(holder, caplog) == []  # no change, no line

    with sqlite_engine.begin() as conn:
        promote(conn, second, "candidate beats live")
    assert _switches(holder, caplog) == [
        f"serving model version {second} instead of model version {first} "
        "(promote: candidate beats live)"
    ]

    with sqlite_engine.begin() as conn:
        rollback(conn, "manual rollback")
    assert _switches(holder, caplog) == [
        f"serving model version {first} instead of model version {second} "
        f"(rollback: manual rollback (from version {second}))"
    ]

    with sqlite_engine.begin() as conn:  # e.g. the database restored from an older backup
        conn.execute(delete(model_promotions))
    assert _switches(holder, caplog) == [
        f"serving the content prior instead of model version {first} "
        "(no model is promoted in the registry)"
    ]
    assert holder.current is None


def test_promoting_the_prior_swaps_every_holder_on_its_next_poll(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Two holders stand for two replicas: one poll after `vacrec model promote prior` both
    serve the content prior, and one poll after a rollback both serve the model again."""
    caplog.set_level(logging.INFO, logger="vacrec.app.models")
    replicas = [ModelHolder(sqlite_engine, poll_s=60) for _ in range(2)]
    version = _save(sqlite_engine)
    with sqlite_engine.begin() as conn:
        promote(conn, version, "manual promote")
    for holder in replicas:
        holder.refresh_if_changed()
        assert holder.current is not None and holder.current.version == version

    with sqlite_engine.begin() as conn:
        promote_prior(conn, "manual promote of the content prior")
    for holder in replicas:
        assert _switches(holder, caplog) == [
            f"serving the content prior instead of model version {version} "
            "(promote: manual promote of the content prior)"
        ]
        assert holder.current is None

    with sqlite_engine.begin() as conn:
        assert rollback(conn, "manual rollback") == version
    for holder in replicas:
        assert holder.refresh_if_changed() is True
        assert holder.current is not None and holder.current.version == version
