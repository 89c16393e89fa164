#!/usr/bin/env python3
"""Where a request's time goes under load: CPU per request of each process, and commits.

Usage (from the project root):
    .venv/bin/python scripts/profile-load.py [--database sqlite|postgres] [--seconds 20]
        [--clients 32] [--workers 2] [--catalog ../shared/data/hh_artist_vacancies_2023.xlsx]

The run of `vacrec bench load` (a fresh store of the catalog, `vacrec serve --workers N`,
N seekers recommend -> feedback after a 1 s warm-up), measured from outside: the CPU
seconds the server's processes, this process (the load clients) and, on PostgreSQL, the
backends of the store's database spent during the measured seconds, each divided by the
HTTP requests served; the share of the machine's cores they used; and, on PostgreSQL, per
write (an event or a rating) the transactions committed in the store's database, which
group commit brings below 1, and the connections opened (a pool too small for the threads
writing at once closes and reopens them; their backends' CPU is then missed above). On
PostgreSQL the store is a database of its own on `VACREC_TEST_POSTGRES_URL`'s server
(dropped afterwards), so those counts are this run's alone (PostgreSQL flushes them about
once a second: read them as approximate). Prints one JSON line. What the rest of the
machine did meanwhile is not counted: compare runs made under the same load (`uptime`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

from vacrec.app.ingest import ingest_paths
from vacrec.benchmarks.load import (
    CLIENTS,
    POSTGRES_URL,
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
    """PostgreSQL backends connected to the store's database (the server's, by now)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        )
        return [int(row[0]) for row in rows]


@contextmanager
def own_database(database: str, work: Path) -> Iterator[tuple[str, str]]:
    """``fresh_store``, but a PostgreSQL store is a database of its own (dropped after)."""
    if database != "postgres":
        with fresh_store(database, work) as store:
            yield store
        return
    name = f"profile_load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield "postgres", make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def counters(engine: Engine) -> tuple[int, int]:
    """Transactions committed and sessions opened so far in the store's database."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT xact_commit, sessions FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
        ).one()
        return int(row[0]), int(row[1])


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
        with own_database(args.database, work) as (kind, url):
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
    counted_before = counters(engine) if engine is not None else (0, 0)
    own_before, started = os.times(), time.monotonic()
    stats = asyncio.run(run_load(server.url, args.seconds, args.clients))
    own_after, elapsed = os.times(), time.monotonic() - started
    spent = {pid: cpu_seconds(pid) - before[pid] for pid in before}
    counted = counters(engine) if engine is not None else None
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
        "commits_per_write": None
        if counted is None
        else round((counted[0] - counted_before[0]) / writes, 3),
        "sessions_per_write": None
        if counted is None
        else round((counted[1] - counted_before[1]) / writes, 3),
    }


if __name__ == "__main__":
    main()
