"""Nobody steers what is learned: legacy writes stay with their requester, a client's
share of the training rows is capped, and a coordinated flood from many identities,
each within its budget, is held for an operator instead of going live.

The servers trust X-Forwarded-For from 127.0.0.1 (a proxy on the same host), so the
header stands for each client's address.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.service.conftest import INDUSTRIES, IT, MARKETING, Server, ServerFactory
from vacrec.app.registry import list_models, live_version
from vacrec.app.training import train_from_store
from vacrec.cli import app
from vacrec.config import get_settings
from vacrec.store.tables import events, feedback

PROXY = "127.0.0.1"
BODY = {"age": 30, "skill": "геймдев", "preference": "игры и персонажи"}


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_a_legacy_write_is_tied_only_to_an_event_served_to_the_same_client(
    make_server: ServerFactory,
) -> None:
    server = make_server(trusted_proxies=PROXY)
    victim, attacker = _from("203.0.113.10"), _from("198.51.100.66")
    served = server.client.get("/api/recommend/", params=BODY, headers=victim).json()
    write = {"cum_reward": 5, "age": 30, "skill": "геймдев", "action": served["details"]["action"]}

    stolen = server.client.post("/api/write/", json=write, headers=attacker)
    own = server.client.post("/api/write/", json={**write, "cum_reward": -1}, headers=victim)

    assert stolen.status_code == 200 and own.status_code == 200
    with server.engine.connect() as conn:
        rows = conn.execute(
            select(feedback.c.event_id, feedback.c.cum_reward, feedback.c.legacy).order_by(
                feedback.c.id
            )
        ).all()
    event_id = served["details"]["event_id"]
    assert [tuple(r) for r in rows] == [(None, 5, True), (event_id, -1, False)]


def test_events_and_ratings_keep_a_hashed_client_identity(make_server: ServerFactory) -> None:
    server = make_server(trusted_proxies=PROXY)
    rec = server.client.post("/api/v1/recommendations", json=BODY, headers=_from("203.0.113.5"))
    rating = {"event_id": rec.json()["event_id"], "cum_reward": 1}
    server.client.post("/api/v1/feedback", json=rating, headers=_from("203.0.113.5"))
    other = server.client.post("/api/v1/recommendations", json=BODY, headers=_from("203.0.113.6"))

    with server.engine.connect() as conn:
        logged = dict(conn.execute(select(events.c.id, events.c.client)).all())
        rater = conn.execute(select(feedback.c.client)).scalar_one()
    first, second = logged[rec.json()["event_id"]], logged[other.json()["event_id"]]
    assert first and second and first != second and rater == first
    assert "203.0.113" not in first  # the address itself is not stored


def _honest_seekers(server: Server, n: int) -> None:
    """Game seekers who like IT pages, each from an address of their own."""
    for i in range(n):
        who = _from(f"10.1.{i // 200}.{i % 200 + 1}")
        rec = server.client.post(
            "/api/v1/recommendations", json={**BODY, "age": 20 + i % 40}, headers=who
        ).json()
        liked = rec["action"]["industry"] == IT
        rating = {"event_id": rec["event_id"], "cum_reward": 2 if liked else -2}
        assert server.client.post("/api/v1/feedback", json=rating, headers=who).is_success


def _flood_from_many(server: Server, identities: int, each: int) -> int:
    """``identities`` addresses push marketing, each staying within its budget."""
    accepted = 0
    for n in range(identities):
        with httpx.Client(base_url=server.url, headers=_from(f"100.64.{n}.9"), timeout=30) as c:
            for i in range(each):
                rec = c.post("/api/v1/recommendations", json={**BODY, "age": 20 + i % 40})
                served = rec.json()
                pushed = served["action"]["industry"] == MARKETING
                strongest = len(served["items"])
                rating = {
                    "event_id": served["event_id"],
                    "cum_reward": strongest if pushed else -strongest,
                }
                accepted += c.post("/api/v1/feedback", json=rating).status_code == 200
    return accepted


def _served_industries(server: Server) -> list[str]:
    """What honest game seekers of every age are served now (greedy)."""
    return [
        server.client.post(
            "/api/v1/recommendations",
            json={**BODY, "age": age, "explore": False},
            headers=_from("192.0.2.1"),
        ).json()["action"]["industry"]
        for age in range(20, 60, 4)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_flood_from_many_identities_within_budget_is_held_for_an_operator(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(
        epsilon=1.0,
        trusted_proxies=PROXY,
        train_max_client_share=0.05,
        rate_limit_recommendations="60/minute",
        rate_limit_rewards="60/minute",
    )
    _honest_seekers(server, 300)
    honest = train_from_store(server.engine, server.settings)
    server.client.post("/api/v1/recommendations", json=BODY)  # let the holder poll
    before = _served_industries(server)
    assert set(before) == {IT}

    accepted = _flood_from_many(server, identities=40, each=25)
    assert accepted == 1000  # every identity stayed within its budget
    flooded = train_from_store(server.engine, server.settings)

    assert flooded["held_for_operator"] is True and flooded["promoted"] is False
    assert "held for an operator" in flooded["promotion_reason"]
    assert flooded["drift"]["distance"] > server.settings.promotion_drift_threshold
    with server.engine.connect() as conn:
        assert live_version(conn) == (honest["version"] if honest["promoted"] else None)
        held = next(m for m in list_models(conn) if m.version == flooded["version"])
    assert held.meta is not None and held.meta.promotion.held is True
    assert _served_industries(server) == before
    listed = _model_list(server, monkeypatch)
    assert [m["held"] for m in listed if m["version"] == flooded["version"]] == [True]
    assert "held for an operator" in str(listed[-1]["reason"])

    # Without the hold the same logs would have gone live and served the flood's industry.
    ungated = server.settings.model_copy(update={"promotion_drift_threshold": 1.0})
    _honest_seekers(server, 1)  # a training registers something only after a new rating
    trusting = train_from_store(server.engine, ungated)
    assert trusting["promoted"] is True
    assert MARKETING in INDUSTRIES
    _wait_for_live(server, trusting["version"])
    assert _served_industries(server).count(MARKETING) > len(before) // 2


def _model_list(server: Server, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """`vacrec model list --json` on the server's store, as an operator runs it."""
    monkeypatch.setenv("VACREC_HOME", str(server.settings.home))
    monkeypatch.setenv("VACREC_DATABASE_URL", server.settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["model", "list", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])["models"]


def _wait_for_live(server: Server, version: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        model = server.client.get("/api/v1/model").json()
        if model.get("version") == version:
            return
        time.sleep(0.1)
    raise AssertionError(f"model {version} never went live")
