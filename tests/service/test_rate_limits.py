"""Per-address budgets on the endpoints that write, and a flood that cannot move the policy.

The servers here trust ``X-Forwarded-For`` from 127.0.0.1 (``VACREC_TRUSTED_PROXIES``),
as an operator sets it for a reverse proxy on the same host: that header stands for
the client's address. With the default (no trusted proxy) the header means nothing.
"""

from __future__ import annotations

import asyncio
import math
import time
import tracemalloc

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from tests.service.conftest import INDUSTRIES, IT, MARKETING, Server, ServerFactory
from vacrec.app.registry import load_model, newest_version
from vacrec.app.training import LogSelection, read_training_logs, train_from_store
from vacrec.config import Settings
from vacrec.errors import TooManyRequests
from vacrec.service.rate_limits import RECOMMEND, BoundedMemoryStorage, RateLimits
from vacrec.store.tables import events, feedback

PROXY = "127.0.0.1"
ATTACKER = {"X-Forwarded-For": "198.51.100.66"}
BODY = {"age": 30, "skill": "геймдев", "preference": "игры и персонажи"}


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _count(server: Server, table) -> int:  # type: ignore[no-untyped-def]
    with server.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_recommendations_past_the_budget_get_429_with_retry_after(
    make_server: ServerFactory,
) -> None:
    server = make_server(rate_limit_recommendations="3/minute", trusted_proxies=PROXY)
    v1 = [server.client.post("/api/v1/recommendations", json=BODY, headers=ATTACKER)]
    v1 += [server.client.post("/api/v1/recommendations", json=BODY, headers=ATTACKER)]
    legacy = server.client.get("/api/recommend/", params=BODY, headers=ATTACKER)
    over_v1 = server.client.post("/api/v1/recommendations", json=BODY, headers=ATTACKER)
    over_legacy = server.client.get("/api/recommend/", params=BODY, headers=ATTACKER)
    someone_else = server.client.post(
        "/api/v1/recommendations", json=BODY, headers=_from("203.0.113.7")
    )

    assert [r.status_code for r in [*v1, legacy]] == [200, 200, 200]  # one budget, both APIs
    assert over_v1.status_code == 429 and over_legacy.status_code == 429
    assert 1 <= int(over_v1.headers["Retry-After"]) <= 60
    assert "198.51.100.66" in over_v1.json()["detail"]
    assert over_legacy.json()["status_code"] == 429  # the legacy envelope
    assert someone_else.status_code == 200  # budgets are per address
    assert _count(server, events) == 4  # refused requests stored nothing


def test_an_answer_over_budget_comes_late_without_holding_anyone_else_up(
    make_server: ServerFactory,
) -> None:
    """A client retrying at once gets about one 429 a second per connection, so a flood of
    them costs a worker little; the wait is this request's alone."""
    server = make_server(
        rate_limit_recommendations="1/minute", rate_limit_delay_s=1.5, trusted_proxies=PROXY
    )
    assert server.client.post("/api/v1/recommendations", json=BODY, headers=ATTACKER).is_success

    async def both() -> tuple[tuple[int, float], tuple[int, float]]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:

            async def timed(headers: dict[str, str]) -> tuple[int, float]:
                started = time.monotonic()
                answer = await client.post("/api/v1/recommendations", json=BODY, headers=headers)
                return answer.status_code, time.monotonic() - started

            over = asyncio.create_task(timed(ATTACKER))
            await asyncio.sleep(0.2)  # the over-budget request is waiting by now
            other = await timed(_from("203.0.113.7"))
            return await over, other

    (over_status, over_s), (other_status, other_s) = asyncio.run(both())
    assert over_status == 429 and over_s >= 1.4
    assert other_status == 200 and other_s < over_s  # served while the 429 waited


def test_rewards_share_one_budget_across_legacy_writes_and_feedback(
    make_server: ServerFactory,
) -> None:
    server = make_server(rate_limit_rewards="2/minute", trusted_proxies=PROXY)
    event = server.client.post("/api/v1/recommendations", json=BODY).json()
    write = {"cum_reward": 3, "age": 30, "skill": "геймдев", "action": 0}

    first = server.client.post("/api/write/", json=write, headers=ATTACKER)
    second = server.client.post(
        "/api/v1/feedback", json={"event_id": event["event_id"], "cum_reward": 1}, headers=ATTACKER
    )
    third = server.client.post("/api/write/", json=write, headers=ATTACKER)
    invalid = server.client.post("/api/write/", json={"age": "x"}, headers=ATTACKER)

    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert invalid.status_code == 429  # the budget is spent before the body is even read
    assert third.json() == {"status_code": 429, "details": third.json()["details"]}
    assert _count(server, feedback) == 2


def test_forwarded_headers_mean_nothing_unless_the_proxy_is_trusted(
    make_server: ServerFactory,
) -> None:
    """The default: a client on loopback rotating X-Forwarded-For is still one address."""
    server = make_server(rate_limit_recommendations="3/minute")
    answers = [
        server.client.post("/api/v1/recommendations", json=BODY, headers=_from(f"10.9.0.{i}"))
        for i in range(1, 6)
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert "127.0.0.1" in answers[-1].json()["detail"]


def _honest_traffic(server: Server, n: int) -> None:
    """Seekers who type about games and like IT; each from an address of their own."""
    for i in range(n):
        client = _from(f"10.0.{i // 200}.{i % 200 + 1}")
        body = {**BODY, "age": 20 + i % 40}
        rec = server.client.post("/api/v1/recommendations", json=body, headers=client).json()
        liked = rec["action"]["industry"] == IT
        rating = {"event_id": rec["event_id"], "cum_reward": 2 if liked else -2}
        assert server.client.post("/api/v1/feedback", json=rating, headers=client).is_success


def _flood(server: Server, requests: int) -> int:
    """One address pushes marketing for every game seeker; returns the rewards accepted."""
    marketing = INDUSTRIES.index(MARKETING)  # the legacy action index of the sorted groups
    accepted = 0
    with httpx.Client(base_url=server.url, headers=ATTACKER, timeout=30) as attacker:
        for i in range(requests):
            write = {"cum_reward": 5, "age": 20 + i % 40, "skill": "геймдев", "action": marketing}
            accepted += attacker.post("/api/write/", json=write).status_code == 200
            rec = attacker.post("/api/v1/recommendations", json={**BODY, "age": 20 + i % 40})
            if rec.status_code != 200:
                continue
            served = rec.json()
            strongest = len(served["items"])  # all up or all down: the most a rating can say
            pushed = served["action"]["industry"] == MARKETING
            rating = {
                "event_id": served["event_id"],
                "cum_reward": strongest * (1 if pushed else -1),
            }
            accepted += attacker.post("/api/v1/feedback", json=rating).status_code == 200
    return accepted


def _greedy_industries(server: Server) -> list[str]:
    """The newest trained model's choice for game seekers of every age."""
    snapshot, encoder, _ = read_training_logs(server.engine, server.settings, LogSelection())
    with server.engine.connect() as conn:
        model = load_model(conn, int(newest_version(conn) or 0))
    ages = list(range(20, 60))
    seekers = encoder.encode(ages, ["геймдев"] * len(ages), [BODY["preference"]] * len(ages))
    return [snapshot.actions[int(a)] for a in np.argmax(model.q_values(seekers), axis=1)]


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_flood_from_one_address_does_not_move_the_trained_policy(
    make_server: ServerFactory,
) -> None:
    """Defaults on: the flood lands a few dozen rows and the next model chooses as before.
    The same flood through a server without budgets does move it: the limit is what holds."""
    limited = make_server(
        epsilon=1.0,
        rate_limit_recommendations="60/minute;600/hour",
        rate_limit_rewards="60/minute;600/hour",
        trusted_proxies=PROXY,
        train_max_client_share=1.0,  # budgets alone: test_steering.py covers the share cap
        rate_limit_delay_s=0.0,  # the delay only slows a flood; what it stores is the budget's
    )
    _honest_traffic(limited, 300)
    train_from_store(limited.engine, limited.settings, promote_mode="never")
    before = _greedy_industries(limited)
    assert before.count(IT) == len(before)  # what the honest seekers taught

    started = time.monotonic()
    accepted = _flood(limited, 1000)
    minutes = math.ceil((time.monotonic() - started) / 60)
    train_from_store(limited.engine, limited.settings, promote_mode="never")
    assert accepted <= 60 * minutes  # legacy writes and feedback share 60 a minute
    assert _greedy_industries(limited) == before

    unlimited = make_server(epsilon=1.0, trusted_proxies=PROXY)  # the test default: no budgets
    _flood(unlimited, 1000)
    train_from_store(unlimited.engine, unlimited.settings, promote_mode="never")
    assert _greedy_industries(unlimited).count(MARKETING) > len(before) // 2


# --- the in-process storage stays bounded ------------------------------------------------


def test_memory_storage_stays_bounded_while_an_active_address_still_meets_429() -> None:
    """20,000 invented addresses against a cap of 500 keys: the store holds at most 500 and
    a few hundred kB, while one address that keeps sending is refused on its 6th request."""
    cap, flood = 500, 20_000
    limits = RateLimits(Settings(rate_limit_recommendations="5/minute", rate_limit_max_keys=cap))
    storage = limits.storage
    assert isinstance(storage, BoundedMemoryStorage)

    async def run() -> tuple[list[bool], int, int]:
        tracemalloc.start()
        answers: list[bool] = []
        peak_keys = 0
        baseline = 0
        for i in range(flood):
            await limits.hit(RECOMMEND, f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
            peak_keys = max(peak_keys, storage.key_count)
            if i == cap:
                baseline = tracemalloc.get_traced_memory()[0]  # the store is full here
            if i % 100 == 0 and len(answers) < 8:  # the active one, among 100 others each time
                try:
                    await limits.hit(RECOMMEND, "203.0.113.9")
                    answers.append(True)
                except TooManyRequests:
                    answers.append(False)
        grown = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()
        return answers, peak_keys, grown

    answers, peak_keys, grown = asyncio.run(run())
    assert answers == [True] * 5 + [False] * 3  # never forgotten while it kept sending
    assert peak_keys <= cap
    assert grown < 1_000_000  # bytes; unbounded, the same flood holds about 20 MB


def test_an_evicted_address_starts_a_fresh_window() -> None:
    """What eviction costs: an address idle past max_keys other keys gets its budget back."""
    limits = RateLimits(Settings(rate_limit_recommendations="2/minute", rate_limit_max_keys=10))

    async def run() -> list[bool]:
        results = []
        for _ in range(2):
            await limits.hit(RECOMMEND, "198.51.100.1")
        for i in range(20):
            await limits.hit(RECOMMEND, f"192.0.2.{i}")
        try:
            await limits.hit(RECOMMEND, "198.51.100.1")
            results.append(True)
        except TooManyRequests:
            results.append(False)
        return results

    assert asyncio.run(run()) == [True]
