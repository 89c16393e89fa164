"""Benchmark of `vacrec ingest` on the shared spreadsheet, as a user runs it.

Each run is a fresh process on a fresh SQLite store, so the figure includes
interpreter start-up, migration, reading, industry inference and writing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ORIGINAL_PREPARE_S = 11.6  # the original service's preparation of the same file, measured here


def run(
    catalog: Path, repeats: int = 3, progress: Callable[[str], None] = lambda _: None
) -> dict[str, object]:
    """Median wall time of a cold ``vacrec ingest --json`` and the counts it reported."""
    seconds: list[float] = []
    summary: dict[str, object] = {}
    for i in range(repeats):
        progress(f"cold ingest {i + 1}/{repeats}")
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "VACREC_HOME": home}
            env.pop("VACREC_DATABASE_URL", None)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "vacrec.cli", "ingest", str(catalog), "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds.append(time.perf_counter() - started)
            summary = json.loads(done.stdout.strip().splitlines()[-1])
    median = statistics.median(seconds)
    return {
        "benchmark": "ingest",
        "catalog": str(catalog),
        "cpu_count": os.cpu_count(),
        "runs": repeats,
        "median_seconds": round(median, 3),
        "min_seconds": round(min(seconds), 3),
        "original_seconds": ORIGINAL_PREPARE_S,
        "speedup_vs_original": round(ORIGINAL_PREPARE_S / median, 1),
        "counts": {k: summary.get(k) for k in ("read", "inserted", "skipped_duplicates",
                                                 "rejected", "industries", "inferred",
                                                 "inference_accuracy")},
    }  # fmt: skip
