"""Load: 32 concurrent job seekers against `vacrec serve --workers 2` on PostgreSQL.

Each simulated seeker loops recommend → feedback (votes on the cards shown).
Nothing may answer 5xx, and every feedback the server acknowledged (200) must be
in the database afterwards. p50/p99 and throughput are printed. CI: 10 s;
``VACREC_PROOF_FULL=1``: 60 s.

The clients are `vacrec bench load`'s (src/vacrec/benchmarks/load.py; why not locust: see there).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.proof import RecordProperty, percentile, report_figures
from tests.seekers import CLIENTS, run_load
from tests.serve_process import ServeProcess, vacrec_env
from tests.store_checks import stored_events, stored_feedback
from vacrec.app.ingest import ingest_paths
from vacrec.store.db import make_engine, migrate

CI_SECONDS, FULL_SECONDS = 10.0, 60.0
WARMUP_S = 1.0
WORKERS = 2


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
    assert requests >= CLIENTS * 2  # the load really ran: a recommend → feedback pair a client
    assert errors_5xx == 0 and stats.transport_errors == 0
    assert set(stats.statuses) == {"200"}  # valid seekers, fresh events: nothing is refused
    assert lost == 0 and set(stats.served + warmup.served) <= served
