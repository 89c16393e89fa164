"""The numbers behind /dashboard, on SQLite and PostgreSQL (time bucketing is per dialect).

Real users' traffic and simulated traffic are reported apart, each bucketed by its own span.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from tests.service.conftest import ServerFactory
from vacrec.service.dashboard import MAX_LOSS_POINTS, DashboardCache, dashboard_data
from vacrec.service.shared_body import SharedBody
from vacrec.store.tables import events, feedback, model_promotions, models

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def _event(conn, at: datetime, industry: str, action: int = 0, source: str = "api") -> str:  # type: ignore[no-untyped-def]
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
            source=source,
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
    for origin in ("real", "simulated"):
        traffic = data["traffic"][origin]
        assert traffic["totals"] == {"events": 0, "feedback": 0, "mean_reward": None}
        assert traffic["reward_over_time"] == traffic["feedback_rate"] == traffic["actions"] == []
    assert data["models"] == [] and data["live_version"] is None and data["loss_curve"] is None


def test_first_hour_is_a_series_of_five_minute_buckets(engine: Engine) -> None:
    with engine.begin() as conn:
        a = _event(conn, T0, "ИТ")  # 10:15
        b = _event(conn, T0 + timedelta(minutes=2), "ИТ")  # 10:17, same bucket, never rated
        c = _event(conn, T0 + timedelta(minutes=50), "Искусство", action=1)  # 11:05
        _feedback(conn, a, T0 + timedelta(minutes=1), 2)
        _feedback(conn, c, T0 + timedelta(minutes=52), -1)
        _feedback(conn, None, T0 + timedelta(minutes=55), 1)  # legacy write, no event: real
    assert b

    real = dashboard_data(engine)["traffic"]["real"]

    assert real["bucket_s"] == 300  # 55 minutes: 12 buckets, where hourly gave 2 dots
    assert real["totals"]["events"] == 3 and real["totals"]["feedback"] == 3
    assert real["feedback_rate"] == [
        {"t": "2026-03-02T10:15:00Z", "events": 2, "rated": 1, "rate": 0.5},
        {"t": "2026-03-02T11:05:00Z", "events": 1, "rated": 1, "rate": 1.0},
    ]
    rewards = real["reward_over_time"]
    assert [(r["t"], r["n"]) for r in rewards] == [
        ("2026-03-02T10:15:00Z", 1),
        ("2026-03-02T11:05:00Z", 1),
        ("2026-03-02T11:10:00Z", 1),
    ]
    assert rewards[0]["mean_reward"] == pytest.approx(math.tanh(2))
    assert rewards[1]["mean_reward"] == pytest.approx(math.tanh(-1))
    assert real["actions"] == [
        {"industry": "ИТ", "served": 2, "rated": 1, "mean_reward": pytest.approx(math.tanh(2))},
        {
            "industry": "Искусство",
            "served": 1,
            "rated": 1,
            "mean_reward": pytest.approx(math.tanh(-1)),
        },
    ]


def test_minutes_of_traffic_get_minute_buckets(engine: Engine) -> None:
    with engine.begin() as conn:
        for seconds in (0, 30, 70, 200):
            _event(conn, T0 + timedelta(seconds=seconds), "ИТ")
    real = dashboard_data(engine)["traffic"]["real"]
    assert real["bucket_s"] == 60
    assert [(r["t"], r["events"]) for r in real["feedback_rate"]] == [
        ("2026-03-02T10:15:00Z", 2),
        ("2026-03-02T10:16:00Z", 1),
        ("2026-03-02T10:18:00Z", 1),
    ]


def test_long_history_is_bucketed_by_day(engine: Engine) -> None:
    with engine.begin() as conn:
        for day in (0, 0, 30):
            _event(conn, T0 + timedelta(days=day, hours=3), "ИТ")
    real = dashboard_data(engine)["traffic"]["real"]
    assert real["bucket_s"] == 86400
    assert [(r["t"], r["events"]) for r in real["feedback_rate"]] == [
        ("2026-03-02T00:00:00Z", 2),
        ("2026-04-01T00:00:00Z", 1),
    ]


def test_simulated_traffic_is_reported_apart_from_real_users(engine: Engine) -> None:
    with engine.begin() as conn:
        real = [
            _event(conn, T0, "ИТ", source="api"),
            _event(conn, T0 + timedelta(minutes=20), "ИТ", source="legacy"),
        ]
        _feedback(conn, real[0], T0 + timedelta(minutes=1), -1)
        _feedback(conn, None, T0 + timedelta(minutes=25), -2)  # legacy write: a real user
        for day in range(10):  # ten days of simulated seekers who all love the arts
            for source in ("simulator", "bootstrap"):
                event = _event(conn, T0 - timedelta(days=day), "Искусство", 1, source=source)
                _feedback(conn, event, T0 - timedelta(days=day, minutes=-1), 3)

    traffic = dashboard_data(engine)["traffic"]

    real_side, simulated = traffic["real"], traffic["simulated"]
    assert real_side["totals"] == {
        "events": 2,
        "feedback": 2,
        "mean_reward": pytest.approx((math.tanh(-1) + math.tanh(-2)) / 2),
    }
    assert [a["industry"] for a in real_side["actions"]] == ["ИТ"]
    assert all(r["mean_reward"] < 0 for r in real_side["reward_over_time"])
    assert real_side["bucket_s"] == 60  # its own 25 minutes, not the simulator's ten days
    assert simulated["totals"] == {
        "events": 20,
        "feedback": 20,
        "mean_reward": pytest.approx(math.tanh(3)),
    }
    assert simulated["actions"] == [
        {
            "industry": "Искусство",
            "served": 20,
            "rated": 20,
            "mean_reward": pytest.approx(math.tanh(3)),
        }
    ]
    assert simulated["bucket_s"] == 6 * 3600
    assert sum(r["events"] for r in simulated["feedback_rate"]) == 20


def test_models_with_estimates_live_version_and_last_loss_curve(engine: Engine) -> None:
    curve = [1.0 / (i + 1) for i in range(MAX_LOSS_POINTS + 100)]
    with engine.begin() as conn:
        v1 = _model(
            conn,
            {
                "ope": {
                    "candidate": {"dr": {"value": 0.1, "low": 0.0, "high": 0.2}},
                    "champion": {"dr": {"value": -0.05, "low": -0.1, "high": 0.0}},
                },
                "promotion": {
                    "promoted": True,
                    "champion": "content prior",
                    "reason": "DR gain 0.15 with 95% CI above 0",
                },
            },
        )
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
    assert data["models"][0]["champion_dr"] == {"value": -0.05, "low": -0.1, "high": 0.0}
    assert data["models"][0]["champion"] == "content prior"
    assert data["models"][0]["promoted"] is True and "DR gain" in data["models"][0]["decision"]
    assert data["models"][1]["champion_dr"] is None and data["models"][1]["promoted"] is None
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


# ---------------------------------------------------------------- the route: cached, limited


def test_concurrent_callers_share_one_computation_and_figures_age_out() -> None:
    """Sixteen callers arrive while the figures are stale: one computation serves them all."""
    now = [100.0]
    cache = DashboardCache(ttl_s=10.0, clock=lambda: now[0])
    started = threading.Event()

    def compute() -> dict[str, Any]:
        started.set()
        time.sleep(0.2)  # the database's share of a real dashboard query, roughly
        return {"n": cache.computations}

    async def crowd() -> list[dict[str, Any]]:
        return await asyncio.gather(*(cache.get(compute) for _ in range(16)))

    first = asyncio.run(crowd())
    assert cache.computations == 1 and started.is_set()
    assert all(figures is first[0] for figures in first)

    now[0] += 9.9  # still fresh: no query at all
    assert asyncio.run(cache.get(compute)) is first[0] and cache.computations == 1
    now[0] += 0.2  # stale: the next caller recomputes
    assert asyncio.run(cache.get(compute)) == {"n": 1} and cache.computations == 2


def test_the_json_body_is_encoded_once_per_computation() -> None:
    """Callers within the interval share the very bytes; fresh figures get a new body."""
    now = [100.0]
    cache = DashboardCache(ttl_s=10.0, clock=lambda: now[0])

    def compute() -> dict[str, Any]:
        return {"n": cache.computations, "word": "акварель"}

    first = asyncio.run(cache.get_json(compute))
    again = asyncio.run(cache.get_json(compute))
    assert again is first and json.loads(first) == {"n": 0, "word": "акварель"}
    now[0] += 10.1
    fresh = asyncio.run(cache.get_json(compute))
    assert json.loads(fresh) == {"n": 1, "word": "акварель"}


def test_the_workers_of_a_host_share_one_computation_per_interval(tmp_path: Path) -> None:
    """Two workers (each its own cache, as each process holds) arriving together on a stale
    file: one computes under the file's lock, the other waits and reads what it wrote."""
    now = [100.0]
    path = tmp_path / "dashboard" / "figures.json"
    workers = [DashboardCache(5.0, lambda: now[0], SharedBody(path)) for _ in range(2)]
    calls: list[int] = []

    def compute() -> dict[str, Any]:
        calls.append(1)
        time.sleep(0.3)  # long enough for the other worker to find the lock taken
        return {"n": len(calls), "word": "акварель"}

    with ThreadPoolExecutor(max_workers=2) as pool:
        bodies = list(pool.map(lambda w: asyncio.run(w.get_json(compute)), workers))
    assert len(calls) == 1 and sorted(w.computations for w in workers) == [0, 1]
    assert bodies[0] == bodies[1] and json.loads(bodies[0]) == {"n": 1, "word": "акварель"}

    stale = time.time() - 6
    os.utime(path, (stale, stale))  # the interval has passed, for the file ...
    now[0] += 6  # ... and for what each worker kept
    assert json.loads(asyncio.run(workers[1].get_json(compute)))["n"] == 2
    assert json.loads(asyncio.run(workers[0].get_json(compute)))["n"] == 2  # read, not computed
    assert len(calls) == 2


def test_the_route_reuses_its_figures_for_the_interval(make_server: ServerFactory) -> None:
    server = make_server(dashboard_cache_s=1.5)
    first = server.client.get("/api/v1/dashboard").json()
    server.client.post("/api/v1/recommendations", json={"age": 30, "skill": "акварель"})
    with ThreadPoolExecutor(max_workers=8) as pool:
        crowd = list(pool.map(lambda _: server.client.get("/api/v1/dashboard"), range(8)))

    assert all(r.status_code == 200 for r in crowd)
    assert {r.json()["generated_at"] for r in crowd} == {first["generated_at"]}
    assert all(r.json()["traffic"]["real"]["totals"]["events"] == 0 for r in crowd)
    time.sleep(1.6)
    fresh = server.client.get("/api/v1/dashboard").json()
    assert fresh["generated_at"] != first["generated_at"]
    assert fresh["traffic"]["real"]["totals"]["events"] == 1


def test_the_route_has_its_own_budget_per_address(make_server: ServerFactory) -> None:
    server = make_server(rate_limit_dashboard="2/minute")
    answers = [server.client.get("/api/v1/dashboard") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    assert "dashboard" in answers[2].json()["detail"]
    # Recommendations keep their own budget.
    rec = server.client.post("/api/v1/recommendations", json={"age": 30, "skill": "акварель"})
    assert rec.status_code == 200


def test_the_catalog_section_says_how_old_it_is_and_what_the_last_refresh_did(
    engine: Engine, tmp_path: Any
) -> None:
    from tests.catalog.factories import normalised, write_jsonl
    from vacrec.app.ingest import ingest_paths
    from vacrec.store.refreshes import record_refresh

    assert dashboard_data(engine)["catalog"]["last_refresh"] is None
    rows = [
        normalised(0, published_at="2023-03-01T10:00:00+00:00"),
        normalised(1, published_at="2023-03-20T10:00:00+00:00"),
        {**normalised(2, published_at="2026-01-01T10:00:00+00:00"), "archived": True},
    ]
    ingest_paths(engine, [write_jsonl(tmp_path / "a.jsonl", rows)])
    with engine.begin() as conn:
        record_refresh(
            conn, started_at=T0, finished_at=T0 + timedelta(minutes=3), queries=[],
            collected=3, inserted=3, updated=0, retired=1, catalog_version=1, error=None,
        )  # fmt: skip
    catalog = dashboard_data(engine)["catalog"]
    # The archived 2026 posting is not served, so the served catalog's newest is from 2023.
    assert catalog["served"] == 2 and catalog["retired"] == 1
    assert catalog["newest_published_at"] == "2023-03-20T10:00:00Z"
    assert catalog["last_refresh"] == {
        "finished_at": "2026-03-02T10:18:00Z", "collected": 3, "inserted": 3, "updated": 0,
        "retired": 1, "error": None,
    }  # fmt: skip
