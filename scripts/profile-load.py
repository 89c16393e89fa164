#!/usr/bin/env python3
"""Where a request's time goes under load: CPU per request of each process, and commits.

Usage (from the project root):
    .venv/bin/python scripts/profile-load.py [--database sqlite|postgres] [--seconds 20]
        [--clients 32] [--workers 2] [--catalog ../shared/data/hh_artist_vacancies_2023.xlsx]

The run of `vacrec bench load` (a fresh store of the catalog, `vacrec serve --workers N`,
N seekers recommend -> feedback after a 1 s warm-up), measured from outside: the CPU
seconds the server's processes, this process (the load clients) and, on PostgreSQL, the
server's own backends (found by the ``application_name`` the store's URL gives them) spent
during the measured seconds, each divided by the HTTP requests served; the share of the
machine's cores they used; and, on PostgreSQL, the transactions committed in the store's
database per write (an event or a rating), which group commit brings below 1. Prints one
JSON line. What the rest of the machine did meanwhile is not counted: compare runs made
under the same load (`uptime`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text

from vacrec.app.ingest import ingest_paths
from vacrec.benchmarks.load import (
    CLIENTS,
    WARMUP_S,
    ServeProcess,
    fresh_store,
    percentile,
    run_load,
    vacrec_env,
)
from vacrec.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT.parent / "shared" / "data" / "hh_artist_vacancies_2023.xlsx"
APPLICATION = "vacrec-profile-load"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def group_pids(pgid: int) -> list[int]:
    """Every process of a process group (the server's supervisor and workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def backend_pids(engine: Engine) -> list[int]:
    """PostgreSQL backends serving this run's server (by application_name)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": APPLICATION},
        )
        return [int(row[0]) for row in rows]


def committed(engine: Engine) -> int:
    """Transactions committed so far in the store's database (all its users)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vacrec-profile-load-") as tmp:
        work = Path(tmp)
        with fresh_store(args.database, work) as (kind, url):
            if kind == "postgres":
                url += f"&application_name={APPLICATION}"
            engine = make_engine(url)
            migrate(engine)
            ingest_paths(engine, [args.catalog])
            server = ServeProcess.start(
                vacrec_env(work / "home", url), work / "serve.log", "--workers", str(args.workers)
            )
            try:
                server.wait_ready()
                asyncio.run(run_load(server.url, WARMUP_S, args.clients, seed=1_000_000))
                figures = measure(server, engine if kind == "postgres" else None, args)
            finally:
                server.stop()
                engine.dispose()
    figures |= {"database": args.database, "clients": args.clients, "workers": args.workers}
    print(json.dumps(figures))


def measure(server: ServeProcess, engine: Engine | None, args: argparse.Namespace) -> dict:
    """Run the clients for ``args.seconds`` and account for the CPU every part spent."""
    servers = group_pids(server.process.pid)
    backends = backend_pids(engine) if engine is not None else []
    before = {pid: cpu_seconds(pid) for pid in servers + backends}
    commits_before = committed(engine) if engine is not None else 0
    own_before, started = os.times(), time.monotonic()
    stats = asyncio.run(run_load(server.url, args.seconds, args.clients))
    own_after, elapsed = os.times(), time.monotonic() - started
    spent = {pid: cpu_seconds(pid) - before[pid] for pid in before}
    commits = committed(engine) - commits_before if engine is not None else None
    requests = sum(stats.statuses.values())
    writes = len(stats.latencies["recommend"]) + len(stats.latencies["feedback"])
    parts = {
        "server": sum(spent[pid] for pid in servers),
        "clients": (own_after.user + own_after.system) - (own_before.user + own_before.system),
        "postgres": sum(spent[pid] for pid in backends),
    }
    latencies = sorted(stats.latencies["recommend"] + stats.latencies["feedback"])
    return {
        "seconds": round(elapsed, 2),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "p50_ms": round(1000 * percentile(latencies, 50), 1),
        "p99_ms": round(1000 * percentile(latencies, 99), 1),
        "errors_5xx": sum(n for s, n in stats.statuses.items() if s.startswith("5")),
        "cpu_ms_per_request": {k: round(1000 * v / requests, 2) for k, v in parts.items()},
        "cores_used": {k: round(v / elapsed, 2) for k, v in parts.items()},
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "commits_per_write": None if commits is None else round(commits / writes, 3),
    }


if __name__ == "__main__":
    main()
