"""Train, evaluate, promote: a fresh store, what training reads, what gets promoted."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.service.conftest import ARTS, IT, seed_catalog
from vacrec.agent.policy import CONTENT_PRIOR
from vacrec.agent.trainer import TrainConfig
from vacrec.app.ingest import ensure_catalog
from vacrec.app.recommender import Recommender
from vacrec.app.registry import list_models, live_version, load_live_model, newest_version
from vacrec.app.simulation import simulate_into_store
from vacrec.app.training import (
    LearningError,
    LogSelection,
    NothingNew,
    read_training_logs,
    retrain_once,
    train_from_store,
)
from vacrec.config import Settings
from vacrec.store.tables import events, models

SIMULATED = LogSelection(simulated=True)


def _settings(engine: Engine, tmp_path: Path, **values: object) -> Settings:
    return Settings(home=tmp_path / "home", database_url=str(engine.url), **values)


def _log_arts_lovers(recommender: Recommender, n: int, preference: str) -> None:
    """``n`` rated requests of «геймдев» seekers aged 20–59 who type ``preference`` and like
    only the arts: +2 for an arts page, −2 for any other."""
    for i in range(n):
        rec = recommender.recommend(20 + i % 40, "геймдев", preference, k=2)
        recommender.feedback(rec.event_id, cum_reward=2 if rec.industry == ARTS else -2)


def test_a_fresh_store_serves_the_content_prior_and_trains_nothing(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = _settings(sqlite_engine, tmp_path)
    ensure_catalog(sqlite_engine)

    recommender = Recommender.from_store(sqlite_engine, settings, seed=0)
    rec = recommender.recommend(27, "иллюстрация", "иллюстрации для детских книг", explore=False)

    assert rec.model_version is None and recommender.models.current is None
    assert "Искусство" in rec.industry  # the prior already reads the words
    with pytest.raises(LearningError, match="no rated events"):
        train_from_store(sqlite_engine, settings)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models)).scalar_one() == 0


@pytest.mark.slow
def test_simulated_events_stay_out_of_training_unless_asked(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = _settings(sqlite_engine, tmp_path, epsilon=1.0)
    ensure_catalog(sqlite_engine)
    simulate_into_store(sqlite_engine, settings, 200, seed=3)
    with sqlite_engine.connect() as conn:
        sources = set(conn.execute(select(events.c.source).distinct()).scalars())
    assert sources == {"simulator"}

    with pytest.raises(LearningError, match="--simulated"):
        train_from_store(sqlite_engine, settings)
    _, _, real = read_training_logs(sqlite_engine, settings, LogSelection())
    _, _, both = read_training_logs(sqlite_engine, settings, SIMULATED)
    assert len(real) == 0 and len(both) == 200

    report = train_from_store(sqlite_engine, settings, selection=SIMULATED, promote_mode="never")
    assert report["simulated_included"] is True and report["transitions"] == 200
    with sqlite_engine.connect() as conn:
        assert newest_version(conn) == report["version"] and live_version(conn) is None


@pytest.mark.slow
def test_a_model_goes_live_only_when_it_beats_the_serving_policy(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Seekers whose ratings contradict their words: only feedback can teach the industry,
    and a model no better than the live one stays a candidate."""
    settings = _settings(sqlite_engine, tmp_path, epsilon=1.0)
    seed_catalog(sqlite_engine, tmp_path)
    recommender = Recommender.from_store(sqlite_engine, settings, seed=2)
    # the words say IT; these seekers only like the arts
    _log_arts_lovers(recommender, 300, "игры и персонажи")

    first = train_from_store(sqlite_engine, settings)
    assert first["promoted"] is True and first["champion"] == "content prior"
    assert first["ope"]["dr_difference"]["low"] > 0
    assert first["held_out"] == 60 and first["trained_on"] == 240

    again = train_from_store(sqlite_engine, settings)
    assert again["champion"] == f"live model {first['version']}"
    assert again["promoted"] is (again["ope"]["dr_difference"]["low"] > 0)

    snapshot, encoder, _ = read_training_logs(sqlite_engine, settings, LogSelection())
    seeker = encoder.encode([25], ["геймдев"], ["игры и персонажи"])
    with sqlite_engine.connect() as conn:
        live = load_live_model(conn)
    assert live is not None
    assert snapshot.actions[int(CONTENT_PRIOR.q_values(seeker).argmax())] == IT
    assert snapshot.actions[int(live.q_values(seeker).argmax())] == ARTS


def test_two_trainings_at_once_take_turns(engine: Engine, tmp_path: Path) -> None:
    """Both trainings promote (``always``), but the second must see the first's model live:
    without the lock each would compare with the same old champion."""
    store = engine
    settings = _settings(store, tmp_path, epsilon=1.0)
    seed_catalog(store, tmp_path)
    recommender = Recommender.from_store(store, settings, seed=4)
    _log_arts_lovers(recommender, 200, "игры и персонажи")

    config = TrainConfig(batch_size=32, updates=300, seed=1)
    reports: list[dict[str, object]] = []

    def run() -> None:
        reports.append(train_from_store(store, settings, config=config, promote_mode="always"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    first, second = sorted(reports, key=lambda r: int(str(r["version"])))
    assert first["live_before"] is None and first["champion"] == "content prior"
    assert second["live_before"] == first["version"]
    assert second["champion"] == f"live model {first['version']}"


def test_retrain_once_trains_from_logged_feedback(engine: Engine, tmp_path: Path) -> None:
    # 60 ratings hold out 12: fewer than a promotion needs by default (see below)
    settings = Settings(home=tmp_path / "home", epsilon=1.0, promotion_min_held_out=10)
    assert retrain_once(engine, settings) is None  # empty store: skipped, not an error
    seed_catalog(engine, tmp_path)
    assert retrain_once(engine, settings) is None  # no feedback yet
    recommender = Recommender.from_store(engine, settings, seed=1)
    # the words say IT first, the arts close behind (both explored), but these seekers only
    # like the arts
    _log_arts_lovers(recommender, 60, "игры unity, театр, сцена")
    report = retrain_once(engine, settings)
    assert report is not None and report["transitions"] == 60
    assert report["promoted"] is True and report["champion"] == "content prior"
    with engine.connect() as conn:
        assert live_version(conn) == report["version"]

    # Nothing new: no new model (a bare retrain loop once registered one every 5 s).
    assert retrain_once(engine, settings) is None
    rec = recommender.recommend(30, "геймдев", "игры", k=2)
    recommender.feedback(rec.event_id, cum_reward=1)
    again = retrain_once(engine, settings)
    assert again is not None and again["version"] == report["version"] + 1


def test_replicas_retraining_on_the_same_tick_train_once(engine: Engine, tmp_path: Path) -> None:
    """Every replica with --retrain-every fires at about the same time; the staleness check
    runs under the training lock, so the second finds the first's model and trains nothing."""
    settings = _settings(engine, tmp_path, epsilon=1.0)
    seed_catalog(engine, tmp_path)
    recommender = Recommender.from_store(engine, settings, seed=3)
    _log_arts_lovers(recommender, 60, "игры unity, театр, сцена")

    reports: list[object] = []
    threads = [
        threading.Thread(target=lambda: reports.append(retrain_once(engine, settings)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r is None for r in reports) == [False, True]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models)).scalar_one() == 1


def test_promotion_needs_the_stated_minimum_of_held_out_events(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Versions were once promoted after a comparison on two events: below
    VACREC_PROMOTION_MIN_HELD_OUT the candidate is registered, not promoted, and the reason
    names both numbers."""
    settings = _settings(sqlite_engine, tmp_path, epsilon=1.0)
    assert settings.promotion_min_held_out == 50
    seed_catalog(sqlite_engine, tmp_path)
    recommender = Recommender.from_store(sqlite_engine, settings, seed=1)
    _log_arts_lovers(recommender, 60, "игры unity, театр, сцена")

    few = train_from_store(sqlite_engine, settings)
    assert few["registered"] is True and few["promoted"] is False
    assert few["held_out"] < 50
    assert (
        f"compared on {few['ope']['logged_rows']} held-out events, fewer than the 50"
        in (few["promotion_reason"])
    )
    with sqlite_engine.connect() as conn:
        assert live_version(conn) is None

    lower = settings.model_copy(update={"promotion_min_held_out": 10})
    enough = train_from_store(sqlite_engine, lower)
    assert enough["promoted"] is True  # the same logs, judged on enough events for this bar


def test_a_simulated_trained_model_is_never_auto_promoted_without_the_flag(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = _settings(sqlite_engine, tmp_path, epsilon=1.0)
    ensure_catalog(sqlite_engine)
    simulate_into_store(sqlite_engine, settings, 300, seed=3)

    for mode in ("auto", "always"):
        report = train_from_store(
            sqlite_engine, settings, TrainConfig(updates=50), mode, selection=SIMULATED
        )
        assert report["registered"] is True and report["promoted"] is False
        assert "trained with simulated events" in report["promotion_reason"]
        assert "--allow-simulated" in report["promotion_reason"]
    with sqlite_engine.connect() as conn:
        assert live_version(conn) is None
        (info,) = [i for i in list_models(conn) if i.version == report["version"]]
    assert info.meta is not None and info.meta.promotion.promoted is False
    assert info.meta.data.simulated_included is True

    allowed = train_from_store(
        sqlite_engine,
        settings,
        TrainConfig(updates=50),
        "always",
        selection=SIMULATED,
        allow_simulated=True,
    )
    assert allowed["promoted"] is True
    with sqlite_engine.connect() as conn:
        assert live_version(conn) == allowed["version"]


def test_a_training_with_no_new_events_registers_nothing(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Also when only simulated events arrived since and the training reads real ones only."""
    settings = _settings(sqlite_engine, tmp_path, epsilon=1.0)
    seed_catalog(sqlite_engine, tmp_path)
    recommender = Recommender.from_store(sqlite_engine, settings, seed=1)
    _log_arts_lovers(recommender, 40, "игры")
    config = TrainConfig(updates=30)

    first = train_from_store(sqlite_engine, settings, config, "never", only_if_new=True)
    with pytest.raises(NothingNew, match=f"no new feedback since model {first['version']}"):
        train_from_store(sqlite_engine, settings, config, "never", only_if_new=True)
    simulate_into_store(sqlite_engine, settings, 20, seed=2)
    with pytest.raises(NothingNew):  # simulated ratings are nothing new for real-only logs
        train_from_store(sqlite_engine, settings, config, "never", only_if_new=True)
    # ... but they are for a training that reads them
    with_sim = train_from_store(
        sqlite_engine, settings, config, "never", selection=SIMULATED, only_if_new=True
    )
    assert with_sim["version"] == first["version"] + 1
    with pytest.raises(NothingNew):
        train_from_store(
            sqlite_engine, settings, config, "never", selection=SIMULATED, only_if_new=True
        )
    _log_arts_lovers(recommender, 1, "игры")
    again = train_from_store(sqlite_engine, settings, config, "never", only_if_new=True)
    assert again["version"] == with_sim["version"] + 1
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models)).scalar_one() == 3
