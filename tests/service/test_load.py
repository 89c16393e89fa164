"""Load: 32 concurrent job seekers against `vacrec serve --workers 2` on PostgreSQL.

Each simulated seeker loops recommend → feedback (votes on the cards shown).
Nothing may answer 5xx, and every feedback the server acknowledged (200) must be
in the database afterwards. p50/p99 and throughput are printed. CI: 10 s;
``VACREC_PROOF_FULL=1``: 60 s.

The loop is hand-written on httpx's async client rather than locust: locust's
library mode needs gevent's monkey-patching of the whole pytest process (which
breaks the threads and sockets other fixtures use) and reports sampled
percentiles, while httpx is already a dependency and asyncio runs 32 truly
concurrent keep-alive clients in one thread, each latency measured exactly.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from tests.proof import RecordProperty, percentile, report_figures
from tests.serve_process import ServeProcess, vacrec_env
from vacrec.store.db import make_engine, migrate
from vacrec.store.ingest import ingest_paths
from vacrec.store.tables import events, feedback

CLIENTS = 32
CI_SECONDS, FULL_SECONDS = 10.0, 60.0
WARMUP_S = 1.0
WORKERS = 2
PREFERENCES = ["акварель", "игры unity персонажи", "реклама баннеры", "театр декорации", "", "3D"]


@dataclass
class LoadStats:
    """What the clients saw: latency per route, statuses, acknowledged writes."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"recommend": [], "feedback": []}
    )
    statuses: Counter[str] = field(default_factory=Counter)
    served: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    transport_errors: int = 0

    def record(self, route: str, response: httpx.Response, seconds: float) -> None:
        self.latencies[route].append(seconds)
        self.statuses[str(response.status_code)] += 1


async def seeker(
    url: str, skills: list[str], deadline: float, stats: LoadStats, rng: random.Random
) -> None:
    """One job seeker on its own keep-alive connection, until the deadline."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline:
            request = {
                "age": rng.randint(18, 65),
                "skill": rng.choice(skills),
                "preference": rng.choice(PREFERENCES),
            }
            started = time.perf_counter()
            response = await client.post("/api/v1/recommendations", json=request)
            stats.record("recommend", response, time.perf_counter() - started)
            if response.status_code != 200:
                continue
            body = response.json()
            stats.served.append(body["event_id"])
            votes = [{"vacancy_id": i["id"], "vote": rng.choice((1, -1))} for i in body["items"]]
            rating = {"event_id": body["event_id"], "votes": votes} if votes else {}
            if not rating:
                rating = {"event_id": body["event_id"], "cum_reward": 0}
            started = time.perf_counter()
            response = await client.post("/api/v1/feedback", json=rating)
            stats.record("feedback", response, time.perf_counter() - started)
            if response.status_code == 200:
                stats.acknowledged.append(body["event_id"])


async def run_load(
    url: str, seconds: float, clients: int = CLIENTS, seed: int = 0, stats: LoadStats | None = None
) -> LoadStats:
    """``clients`` seekers for ``seconds``; a seeker that hits a transport error stops."""
    stats = stats if stats is not None else LoadStats()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        skills = (await client.get("/api/v1/skills")).json()["skills"]
    deadline = time.monotonic() + seconds
    tasks = [seeker(url, skills, deadline, stats, random.Random(seed + i)) for i in range(clients)]
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, httpx.TransportError):
            stats.transport_errors += 1
        elif isinstance(outcome, BaseException):
            raise outcome
    return stats


def stored_feedback(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row.event_id for row in conn.execute(select(feedback.c.event_id))}


def stored_events(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row.id for row in conn.execute(select(events.c.id))}


def milliseconds(values: list[float], q: float) -> float:
    return round(1000 * percentile(sorted(values), q), 1)


@pytest.mark.slow
@pytest.mark.postgres
def test_load_on_two_workers_loses_nothing(
    postgres_url: str,
    shared_xlsx: Path,
    tmp_path: Path,
    proof_full: bool,
    record_property: RecordProperty,
) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)
    ingest_paths(engine, [shared_xlsx])  # the real 2023 catalog: 1,240 vacancies, 23 industries
    server = ServeProcess.start(
        vacrec_env(tmp_path / "home", postgres_url), tmp_path / "serve.log", "--workers", "2"
    )
    seconds = FULL_SECONDS if proof_full else CI_SECONDS
    try:
        server.wait_ready()
        # Not timed: each worker's first requests warm its caches; their writes count below.
        warmup = asyncio.run(run_load(server.url, WARMUP_S, seed=1000))
        started = time.monotonic()
        stats = asyncio.run(run_load(server.url, seconds))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    stored = stored_feedback(engine)
    served = stored_events(engine)
    engine.dispose()

    requests = sum(stats.statuses.values())
    everything = stats.latencies["recommend"] + stats.latencies["feedback"]
    errors_5xx = sum(n for status, n in stats.statuses.items() if status.startswith("5"))
    lost = len(set(stats.acknowledged + warmup.acknowledged) - stored)
    report_figures(
        record_property,
        "load",
        {
            "database": "postgresql",
            "workers": WORKERS,
            "clients": CLIENTS,
            "seconds": round(elapsed, 1),
            "requests": requests,
            "requests_per_s": round(requests / elapsed, 1),
            "p50_ms": milliseconds(everything, 50),
            "p99_ms": milliseconds(everything, 99),
            "recommend_p50_ms": milliseconds(stats.latencies["recommend"], 50),
            "recommend_p99_ms": milliseconds(stats.latencies["recommend"], 99),
            "feedback_p50_ms": milliseconds(stats.latencies["feedback"], 50),
            "feedback_p99_ms": milliseconds(stats.latencies["feedback"], 99),
            "statuses": dict(sorted(stats.statuses.items())),
            "errors_5xx": errors_5xx,
            "transport_errors": stats.transport_errors,
            "acknowledged_feedback": len(stats.acknowledged),
            "lost_feedback": lost,
            "lost_events": len(set(stats.served + warmup.served) - served),
        },
    )
    assert requests > CLIENTS * 10  # the load really ran
    assert errors_5xx == 0 and stats.transport_errors == 0
    assert set(stats.statuses) == {"200"}  # valid seekers, fresh events: nothing is refused
    assert lost == 0 and set(stats.served + warmup.served) <= served
