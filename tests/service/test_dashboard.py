"""The numbers behind /dashboard, on SQLite and PostgreSQL (time bucketing is per dialect)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, insert

from vacrec.service.dashboard import MAX_LOSS_POINTS, dashboard_data
from vacrec.store.tables import events, feedback, model_promotions, models

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def _event(conn, at: datetime, industry: str, action: int = 0) -> str:  # type: ignore[no-untyped-def]
    event_id = uuid.uuid4().hex
    conn.execute(
        insert(events).values(
            id=event_id,
            created_at=at,
            age=30,
            skill="акварель",
            preference="",
            action=action,
            industry=industry,
            propensity=0.5,
            explore=True,
            model_version=None,
            catalog_version=1,
            shown=["1"],
            source="api",
        )
    )
    return event_id


def _feedback(conn, event_id: str | None, at: datetime, cum_reward: int) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        insert(feedback).values(
            event_id=event_id,
            created_at=at,
            age=30,
            skill="акварель",
            action=0,
            cum_reward=cum_reward,
            reward=math.tanh(cum_reward),
            votes=None,
            legacy=event_id is None,
        )
    )


def _model(conn, meta: dict) -> int:  # type: ignore[no-untyped-def, type-arg]
    result = conn.execute(
        insert(models).values(created_at=T0, weights=b"w", checksum="c", meta=meta)
    )
    return int(result.inserted_primary_key[0])


def _promote(conn, version: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    conn.execute(insert(model_promotions).values(version=version, promoted_at=at, reason="test"))


def test_empty_store_gives_empty_plots(engine: Engine) -> None:
    data = dashboard_data(engine)
    assert data["totals"] == {"events": 0, "feedback": 0, "mean_reward": None}
    assert data["reward_over_time"] == data["feedback_rate"] == data["actions"] == []
    assert data["models"] == [] and data["live_version"] is None and data["loss_curve"] is None


def test_traffic_is_bucketed_by_hour_with_rates_and_means(engine: Engine) -> None:
    with engine.begin() as conn:
        a = _event(conn, T0, "ИТ")  # 10:15
        b = _event(conn, T0 + timedelta(minutes=20), "ИТ")  # 10:35, never rated
        c = _event(conn, T0 + timedelta(minutes=50), "Искусство", action=1)  # 11:05
        _feedback(conn, a, T0 + timedelta(minutes=1), 2)
        _feedback(conn, c, T0 + timedelta(minutes=52), -1)
        _feedback(conn, None, T0 + timedelta(minutes=55), 1)  # legacy write, no event
    assert b

    data = dashboard_data(engine)

    assert data["bucket"] == "hour"
    assert data["totals"]["events"] == 3 and data["totals"]["feedback"] == 3
    assert data["feedback_rate"] == [
        {"t": "2026-03-02T10:00:00Z", "events": 2, "rated": 1, "rate": 0.5},
        {"t": "2026-03-02T11:00:00Z", "events": 1, "rated": 1, "rate": 1.0},
    ]
    rewards = data["reward_over_time"]
    assert [r["t"] for r in rewards] == ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"]
    assert [r["n"] for r in rewards] == [1, 2]
    assert rewards[0]["mean_reward"] == pytest.approx(math.tanh(2))
    assert rewards[1]["mean_reward"] == pytest.approx((math.tanh(-1) + math.tanh(1)) / 2)
    assert data["actions"] == [
        {"industry": "ИТ", "served": 2, "rated": 1, "mean_reward": pytest.approx(math.tanh(2))},
        {
            "industry": "Искусство",
            "served": 1,
            "rated": 1,
            "mean_reward": pytest.approx(math.tanh(-1)),
        },
    ]


def test_long_history_is_bucketed_by_day(engine: Engine) -> None:
    with engine.begin() as conn:
        for day in (0, 0, 5):
            _event(conn, T0 + timedelta(days=day, hours=3), "ИТ")
    data = dashboard_data(engine)
    assert data["bucket"] == "day"
    assert [(r["t"], r["events"]) for r in data["feedback_rate"]] == [
        ("2026-03-02T00:00:00Z", 2),
        ("2026-03-07T00:00:00Z", 1),
    ]


def test_models_with_estimates_live_version_and_last_loss_curve(engine: Engine) -> None:
    curve = [1.0 / (i + 1) for i in range(MAX_LOSS_POINTS + 100)]
    with engine.begin() as conn:
        v1 = _model(conn, {"ope": {"candidate": {"dr": {"value": 0.1, "low": 0.0, "high": 0.2}}}})
        v2 = _model(conn, {"loss_curve": "not a curve"})  # metadata this build cannot read
        v3 = _model(
            conn,
            {
                "ope": {"candidate": {"ips": {"value": 0.3, "low": 0.25, "high": 0.4}}},
                "loss_curve": curve,
                "updates": 10 * len(curve),
            },
        )
        _promote(conn, v1, T0)
        _promote(conn, v3, T0 + timedelta(minutes=1))
        _promote(conn, v1, T0 + timedelta(minutes=2))  # a rollback is a promotion too

    data = dashboard_data(engine)

    assert data["live_version"] == v1
    assert [(m["version"], m["live"]) for m in data["models"]] == [
        (v1, True),
        (v2, False),
        (v3, False),
    ]
    assert data["models"][0]["ope"] == [{"estimator": "dr", "value": 0.1, "low": 0.0, "high": 0.2}]
    assert data["models"][1]["ope"] == []
    assert data["models"][2]["ope"] == [
        {"estimator": "ips", "value": 0.3, "low": 0.25, "high": 0.4}
    ]
    loss = data["loss_curve"]
    assert loss["version"] == v3
    points = loss["points"]
    assert len(points) <= MAX_LOSS_POINTS + 1
    assert points[0] == [10.0, 1.0]  # chunk 0 ends at update 10
    assert points[-1] == [float(10 * len(curve)), curve[-1]]
    assert all(a[0] < b[0] and a[1] >= b[1] for a, b in pairwise(points))
