"""`vacrec bench load` through the CLI: a short run (demo catalog, 4 clients, 3 s, 1 worker,
SQLite) — a real server, real clients, and every acknowledged rating found in the store."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import as_file, files

import pytest


@pytest.mark.slow
def test_a_short_sqlite_run_reports_load_and_loses_nothing() -> None:
    with as_file(files("vacrec.catalog") / "demo" / "vacancies.jsonl") as path:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "vacrec.cli", "bench", "load"),
                *("--clients", "4", "--seconds", "3", "--workers", "1"),
                *("--database", "sqlite", "--catalog", str(path), "--json"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["database"] == "sqlite" and figures["clients"] == 4
    assert figures["workers"] == 1 and figures["cores"] >= 1
    assert figures["requests"] > 0 and figures["pairs"] > 0
    assert figures["errors_5xx"] == 0 and figures["transport_errors"] == 0
    assert figures["acknowledged"] > 0
    assert figures["acknowledged"] == figures["stored"] and figures["lost"] == 0
    for route in ("recommend", "feedback"):
        latency = figures["latency_ms"][route]
        assert 0 < latency["p50"] <= latency["p99"]


def test_an_unknown_database_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "bench", "load", "--database", "mysqlish"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "--database" in done.stderr
