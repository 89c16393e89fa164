#!/usr/bin/env python3
"""32 seekers (recommend -> feedback) against `vacrec serve` on SQLite; optionally while a
30,000-row `vacrec ingest` runs. How many 5xx, how fast, how slow at the tail?

Usage (from the project root):
    .venv/bin/python scripts/bench-sqlite-load.py [--seconds 60] [--clients 32]
        [--workers 2] [--ingest-rows 30000] [--catalog ../shared/data/hh_artist_vacancies_2023.xlsx]

A fresh SQLite store in a temporary folder gets the shared catalog, then `vacrec serve
--workers N` starts on it (rate limits off: every client is 127.0.0.1). After a 1 s warm-up
the clients run for ``--seconds``; with ``--ingest-rows``, a `vacrec ingest` of that many
new vacancies (the shared postings cloned with new ids, as `vacrec bench ingest
--synthetic` writes them) starts 2 s into the run, and the load goes on (in 5 s slices)
until the ingest has ended, so its publishing transaction is measured too. Prints one
JSON line.

Without an ingest, `vacrec bench load --json` measures the same (on either database, with
the acknowledged ratings verified); this script adds the ingest running under the load.
The clients are vacrec.benchmarks.load's (why not locust: see there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from vacrec.app.ingest import ingest_paths
from vacrec.benchmarks.ingest import write_synthetic
from vacrec.benchmarks.load import CLIENTS, ServeProcess, percentile, run_load, vacrec_env
from vacrec.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent

CATALOG = ROOT.parent / "shared" / "data" / "hh_artist_vacancies_2023.xlsx"
INGEST_DELAY_S = 2.0
SLICE_S = 5.0
CAUSES = r"database (disk full|read-only|locked|timed out|I/O error|unreachable) on "


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
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    out["ingest_seconds"] = round(time.monotonic() - started, 1)
    out["ingest_exit_code"] = done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ingest-rows", type=int, default=0)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
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
            stats = asyncio.run(run_load(server.url, args.seconds, args.clients))
            while thread is not None and thread.is_alive():  # until the ingest has published
                asyncio.run(run_load(server.url, SLICE_S, args.clients, stats=stats))
            elapsed = time.monotonic() - started
            if thread is not None:
                thread.join()
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
            }
        )
    )


if __name__ == "__main__":
    main()
