#!/usr/bin/env python3
"""32 seekers (recommend -> feedback) against `vacrec serve` on SQLite; optionally while a
30,000-row `vacrec ingest` runs. How many 5xx, how fast, how slow at the tail?

Usage (from the project root):
    .venv/bin/python scripts/bench-sqlite-load.py [--seconds 60] [--clients 32]
        [--workers 2] [--ingest-rows 30000] [--timeline]
        [--catalog ../shared/data/hh_artist_vacancies_2023.xlsx]

A fresh SQLite store in a temporary folder gets the shared catalog, then `vacrec serve
--workers N` starts on it (rate limits off: every client is 127.0.0.1). After a 1 s warm-up
the clients run for ``--seconds``; with ``--ingest-rows``, a `vacrec ingest` of that many
new vacancies (the shared postings cloned with new ids, as `vacrec bench ingest
--synthetic` writes them) starts 2 s into the run, and the same clients go on until the
ingest has ended, so its publishing transaction and snapshot build are measured too
(restarting the clients every few seconds once stalled the timing loop: see
vacrec.benchmarks.load). ``--timeline`` adds each 5 s slice's latencies and when the WAL
grew, the new version committed and the workers swapped snapshots. Prints one JSON line.

Without an ingest, `vacrec bench load --json` measures the same (on either database, with
the acknowledged ratings verified); this script adds the ingest running under the load.
The clients are vacrec.benchmarks.load's (why not locust: see there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from vacrec.app.ingest import ingest_paths
from vacrec.benchmarks.ingest import write_synthetic
from vacrec.benchmarks.load import (
    CLIENTS,
    LoadStats,
    ServeProcess,
    percentile,
    run_load,
    vacrec_env,
)
from vacrec.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent

CATALOG = ROOT.parent / "shared" / "data" / "hh_artist_vacancies_2023.xlsx"
INGEST_DELAY_S = 2.0
SLICE_S = 5.0
CAUSES = r"database (disk full|read-only|locked|timed out|I/O error|unreachable) on "


class TimedStats(LoadStats):
    """LoadStats that also keep when each request ended, for the timeline."""

    def __init__(self) -> None:
        super().__init__()
        self.ended: list[tuple[float, float]] = []  # (monotonic end, seconds)

    def record(self, route: str, response: httpx.Response, seconds: float) -> None:
        super().record(route, response, seconds)
        self.ended.append((time.monotonic(), seconds))


class Markers(threading.Thread):
    """Notes, every 0.1 s, when the store's WAL file grows past 8 MB (the publishing
    transaction is writing), when a new catalog version is visible (it committed), when
    the WAL shrinks again, and when the server logs a snapshot line: the causes to lay
    beside the timeline."""

    def __init__(self, database: Path, serve_log: Path, t0: float) -> None:
        super().__init__(daemon=True)
        self.database, self.serve_log, self.t0 = database, serve_log, t0
        self.events: list[tuple[float, str]] = []
        self.done = threading.Event()

    def note(self, what: str) -> None:
        self.events.append((round(time.monotonic() - self.t0, 1), what))

    def run(self) -> None:
        wal = Path(f"{self.database}-wal")
        reader = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=1)
        version = reader.execute("SELECT max(version) FROM catalog_versions").fetchone()[0]
        growing = False
        offset = self.serve_log.stat().st_size
        while not self.done.wait(0.1):
            size = wal.stat().st_size if wal.exists() else 0
            if size > 8 << 20 and not growing:
                growing = True
                self.note(f"WAL past 8 MB ({size >> 20} MB)")
            elif size < 8 << 20 and growing:
                growing = False
                self.note("WAL back under 8 MB")
            try:
                now = reader.execute("SELECT max(version) FROM catalog_versions").fetchone()[0]
            except sqlite3.Error:
                now = version
            if now != version:
                version = now
                self.note(f"catalog version {now} committed (WAL {size >> 20} MB)")
            with self.serve_log.open("rb") as log:
                log.seek(offset)
                chunk = log.read()
            offset += len(chunk)
            for line in chunk.decode(errors="replace").splitlines():
                if "snapshot" in line:
                    self.note(line.split(": ", 1)[-1][:100])
        reader.close()


def _timeline(ended: list[tuple[float, float]], t0: float) -> list[dict[str, object]]:
    """Per SLICE_S of the run: requests ended, their p50, p99 and max."""
    slices: dict[int, list[float]] = {}
    for at, seconds in ended:
        slices.setdefault(int((at - t0) // SLICE_S), []).append(seconds)
    return [
        {"from_s": k * SLICE_S, "n": len(v), "p50_ms": _ms(v, 50), "p99_ms": _ms(v, 99),
         "max_ms": _ms(v, 100)}
        for k, v in sorted(slices.items())
    ]  # fmt: skip


def _ms(values: list[float], q: float) -> float | None:
    return round(1000 * percentile(sorted(values), q), 1) if values else None


def _ingest_later(env: dict[str, str], data: Path, log: Path, out: dict[str, object]) -> None:
    """Run `vacrec ingest` INGEST_DELAY_S into the load; note its seconds and exit code."""
    time.sleep(INGEST_DELAY_S)
    started = time.monotonic()
    with log.open("ab") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "vacrec.cli", "ingest", str(data), "--json"],
            env=env,
            stdout=sink,  # its JSON summary is the last line
            stderr=subprocess.STDOUT,
        )
    out["ingest_seconds"] = round(time.monotonic() - started, 1)
    out["ingest_exit_code"] = done.returncode
    lines = log.read_text(errors="replace").strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        summary = {}
    out["ingest_stage_seconds"] = {
        **summary.get("stage_seconds", {}),
        "snapshot": summary.get("snapshot_seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ingest-rows", type=int, default=0)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument(
        "--timeline", action="store_true", help="Add per-5 s latencies and the causes' times."
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vacrec-bench-sqlite-") as work:
        home = Path(work) / "home"
        url = f"sqlite:///{home / 'vacrec.db'}"
        engine = make_engine(url)
        migrate(engine)
        ingest_paths(engine, [args.catalog])
        engine.dispose()
        data = None
        if args.ingest_rows:
            data = write_synthetic(Path(work) / "clones.jsonl", args.ingest_rows, args.catalog)
        env = vacrec_env(home, url)
        server = ServeProcess.start(env, Path(work) / "serve.log", "--workers", str(args.workers))
        ingest: dict[str, object] = {}
        try:
            server.wait_ready()
            asyncio.run(run_load(server.url, 1.0, args.clients, seed=1000))  # warm-up
            thread = None
            if data is not None:
                thread = threading.Thread(
                    target=_ingest_later, args=(env, data, Path(work) / "ingest.log", ingest)
                )
                thread.start()
            started = time.monotonic()
            markers = Markers(home / "vacrec.db", Path(work) / "serve.log", started)
            if args.timeline:
                markers.start()
            ingesting = thread is not None

            def done() -> bool:  # the seconds have passed and the ingest has ended
                over = time.monotonic() - started >= args.seconds
                return over and not (ingesting and thread is not None and thread.is_alive())

            stats = TimedStats()
            asyncio.run(run_load(server.url, math.inf, args.clients, stats=stats, until=done))
            elapsed = time.monotonic() - started
            if thread is not None:
                thread.join()
            markers.done.set()
        finally:
            server.stop()
        log = (Path(work) / "serve.log").read_text(errors="replace")

    requests = sum(stats.statuses.values())
    everything = stats.latencies["recommend"] + stats.latencies["feedback"]
    print(
        json.dumps(
            {
                "benchmark": "sqlite-load",
                "clients": args.clients,
                "workers": args.workers,
                "seconds": round(elapsed, 1),
                "ingest_rows": args.ingest_rows,
                **ingest,
                "requests": requests,
                "requests_per_s": round(requests / elapsed, 1),
                "p50_ms": _ms(everything, 50),
                "p99_ms": _ms(everything, 99),
                "max_ms": _ms(everything, 100),
                "statuses": dict(sorted(stats.statuses.items())),
                "errors_5xx": sum(n for s, n in stats.statuses.items() if s.startswith("5")),
                "transport_errors": stats.transport_errors,
                # the causes the servers logged for their database 503s
                "causes_503": dict(Counter(re.findall(CAUSES, log))),
                **(
                    {"timeline": _timeline(stats.ended, started), "events": markers.events}
                    if args.timeline
                    else {}
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
