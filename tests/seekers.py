"""Simulated job seekers for the load and crash proofs: recommend -> feedback, over HTTP.

A hand-written loop on httpx's async client rather than locust: locust's library
mode needs gevent's monkey-patching of the whole pytest process (which breaks the
threads and sockets other fixtures use) and reports sampled percentiles, while
httpx is already a dependency and asyncio runs many truly concurrent keep-alive
clients in one thread, each latency measured exactly.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

CLIENTS = 32
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
