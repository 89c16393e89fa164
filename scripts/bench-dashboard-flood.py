#!/usr/bin/env python3
"""16 clients reloading `/api/v1/dashboard` as fast as they can: how much recommendation
throughput do 32 seekers lose?

Usage (from the project root):
    .venv/bin/python scripts/bench-dashboard-flood.py [--events 47000] [--seconds 30]
        [--rounds 2] [--dashboards 16] [--workers 2] [--limit both|default|off]
        [--catalog ../shared/data/...xlsx]

A fresh SQLite store gets the shared catalog and ``--events`` rated events (the synthetic
log of `vacrec bench train`'s scale runs: the dashboard's figures scan it all), then `vacrec
serve --workers N` starts on it twice: with the default dashboard budget
(``VACREC_RATE_LIMIT_DASHBOARD``: every client here is 127.0.0.1, so the flood is one
address and mostly meets 429s) and with it off (``off``: the per-interval cache alone, as
16 addresses would meet it). In each, ``--rounds`` times alternating: the seekers alone for
``--seconds``, then the seekers with the dashboards (in a process of their own, as an
attacker's are). Prints one JSON line per setting: the
seekers' requests per second alone and flooded (medians over the rounds), the drop, and
the dashboards' statuses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from collections import Counter
from multiprocessing.queues import Queue
from pathlib import Path

import httpx

from vacrec.app.ingest import ingest_paths
from vacrec.benchmarks.load import CLIENTS, ServeProcess, run_load, vacrec_env
from vacrec.benchmarks.train import _fill_log
from vacrec.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT.parent / "shared" / "data" / "hh_artist_vacancies_2023.xlsx"


async def dashboards(url: str, clients: int, seconds: float, statuses: Counter[str]) -> None:
    """``clients`` loops of GET /api/v1/dashboard, each on its own connection, no pause."""

    async def one() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30, verify=tls) as client:
            while time.monotonic() < deadline:
                response = await client.get("/api/v1/dashboard")
                statuses[str(response.status_code)] += 1

    tls = httpx.create_ssl_context()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(one() for _ in range(clients)))


def flood_process(url: str, clients: int, seconds: float, out: Queue[dict[str, int]]) -> None:
    """The dashboards' loops in a process of their own, as an attacker's would be: in the
    seekers' event loop their client-side work starved the seekers' own clients, and the
    benchmark counted that as the server's loss."""
    statuses: Counter[str] = Counter()
    asyncio.run(dashboards(url, clients, seconds, statuses))
    out.put(dict(statuses))


def seekers_per_s(url: str, seconds: float, flood: int, statuses: Counter[str]) -> float:
    """The seekers' requests per second over ``seconds``, beside ``flood`` dashboards."""
    flooding = None
    if flood:
        results: Queue[dict[str, int]] = multiprocessing.Queue()
        flooding = multiprocessing.Process(
            target=flood_process, args=(url, flood, seconds, results)
        )
        flooding.start()
    started = time.monotonic()
    stats = asyncio.run(run_load(url, seconds, CLIENTS))
    per_s = sum(stats.statuses.values()) / (time.monotonic() - started)
    if flooding is not None:
        statuses.update(results.get(timeout=seconds + 60))
        flooding.join(timeout=10)
    return per_s


def measure(home: Path, url: str, log: Path, args: argparse.Namespace, limit: str | None):
    env = vacrec_env(home, url, **({"VACREC_RATE_LIMIT_DASHBOARD": limit} if limit else {}))
    server = ServeProcess.start(env, log, "--workers", str(args.workers))
    alone: list[float] = []
    flooded: list[float] = []
    statuses: Counter[str] = Counter()
    try:
        server.wait_ready()
        asyncio.run(run_load(server.url, 1.0, CLIENTS, seed=1000))  # warm-up
        for _ in range(args.rounds):
            alone.append(seekers_per_s(server.url, args.seconds, 0, statuses))
            flooded.append(seekers_per_s(server.url, args.seconds, args.dashboards, statuses))
    finally:
        server.stop()
    base, under = statistics.median(alone), statistics.median(flooded)
    return {
        "benchmark": "dashboard-flood",
        "dashboard_rate_limit": limit or "default (30/minute per address)",
        "events": args.events,
        "dashboards": args.dashboards,
        "seekers": CLIENTS,
        "workers": args.workers,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "seekers_per_s_alone": [round(x, 1) for x in alone],
        "seekers_per_s_flooded": [round(x, 1) for x in flooded],
        "drop": round(1 - under / base, 3),
        "dashboard_statuses": dict(sorted(statuses.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=47_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dashboards", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument(
        "--limit", choices=["both", "default", "off"], default="both", help="Which settings."
    )
    args = parser.parse_args()
    limits = {"both": [None, "off"], "default": [None], "off": ["off"]}[args.limit]
    with tempfile.TemporaryDirectory(prefix="vacrec-bench-dashboard-") as work:
        home = Path(work) / "home"
        url = f"sqlite:///{home / 'vacrec.db'}"
        engine = make_engine(url)
        migrate(engine)
        ingest_paths(engine, [args.catalog])
        _fill_log(engine, args.events, seed=0)
        engine.dispose()
        for limit in limits:
            log = Path(work) / f"serve-{limit or 'default'}.log"
            print(json.dumps(measure(home, url, log, args, limit)), flush=True)


if __name__ == "__main__":
    main()
