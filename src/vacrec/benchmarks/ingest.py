"""Benchmarks of `vacrec ingest` as a user runs it.

Each run is a fresh process on a fresh SQLite store, so the figure includes
interpreter start-up, migration, reading, industry inference and writing.
:func:`run` times the shared spreadsheet; :func:`run_synthetic` times large
synthetic JSONL files (the shared postings replicated with new ids and a few
extra words) and reports the ingest process's peak memory, which must not grow
with the file.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vacrec.catalog.readers import read_catalog

ORIGINAL_PREPARE_S = 11.6  # the original service's preparation of the same file, measured here


def run(
    catalog: Path, repeats: int = 3, progress: Callable[[str], None] = lambda _: None
) -> dict[str, object]:
    """Median wall time of a cold ``vacrec ingest --json`` and the counts it reported."""
    seconds: list[float] = []
    snapshot_seconds: list[float] = []
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
            snapshot_s = summary.get("snapshot_seconds")
            snapshot_seconds.append(
                float(snapshot_s) if isinstance(snapshot_s, int | float) else 0.0
            )
    median = statistics.median(seconds)
    return {
        "benchmark": "ingest",
        "catalog": str(catalog),
        "cpu_count": os.cpu_count(),
        "runs": repeats,
        "median_seconds": round(median, 3),
        "min_seconds": round(min(seconds), 3),
        # the ingest includes building and saving the serving snapshot; this much of it
        "median_snapshot_seconds": round(statistics.median(snapshot_seconds), 3),
        "original_seconds": ORIGINAL_PREPARE_S,
        "speedup_vs_original": round(ORIGINAL_PREPARE_S / median, 1),
        "counts": {k: summary.get(k) for k in ("read", "inserted", "skipped_duplicates",
                                                 "rejected", "industries", "inferred",
                                                 "inference_accuracy")},
    }  # fmt: skip


_EXTRA_WORDS = (
    "акварель", "гуашь", "эскиз", "макет", "портфолио", "команда", "график", "удалённо",
    "офис", "проект", "студия", "сцена", "декорации", "свет", "анимация", "шрифт",
)  # fmt: skip
COUNT_KEYS = ("read", "inserted", "skipped_duplicates", "rejected", "industries", "inferred",
              "inference_accuracy")  # fmt: skip


def write_synthetic(path: Path, count: int, catalog: Path, seed: int = 0) -> Path:
    """Write ``count`` normalised vacancies to ``path`` as JSONL, one line at a time.

    The shared postings are replicated in turn with a new id and a few extra
    words (so none is a duplicate); those without an industry stay without
    one, so the classifier runs at scale too.
    """
    base = read_catalog(catalog).vacancies
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            vacancy = base[i % len(base)]
            extra = " ".join(rng.choices(_EXTRA_WORDS, k=4))
            row = vacancy.model_dump(mode="json", exclude={"industry_inferred",
                                                           "industry_confidence"})  # fmt: skip
            row["id"] = f"syn-{i}"
            row["description"] = f"{vacancy.description} {extra} (вариант {i})"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def run_synthetic(
    catalog: Path, sizes: list[int], progress: Callable[[str], None] = lambda _: None
) -> dict[str, object]:
    """Wall time and peak RSS of a cold ``vacrec ingest`` of a synthetic JSONL per size."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as work:
        for count in sizes:
            progress(f"writing {count:,} synthetic vacancies")
            data = write_synthetic(Path(work) / f"synthetic-{count}.jsonl", count, catalog)
            progress(f"ingesting {count:,} vacancies")
            home = Path(work) / f"home-{count}"
            seconds, peak_kb, summary = _ingest_process(data, home)
            results.append({
                "vacancies": count,
                "file_mb": round(data.stat().st_size / 2**20, 1),
                "seconds": round(seconds, 2),
                "vacancies_per_second": round(count / seconds),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "counts": {k: summary.get(k) for k in COUNT_KEYS},
            })  # fmt: skip
            data.unlink()
            (home / "vacrec.db").unlink(missing_ok=True)
    return {"benchmark": "ingest-synthetic", "catalog": str(catalog),
            "cpu_count": os.cpu_count(), "sizes": results}  # fmt: skip


def _ingest_process(data: Path, home: Path) -> tuple[float, int, dict[str, Any]]:
    """Run ``vacrec ingest --json`` on a fresh SQLite store: seconds, peak RSS (KiB), summary.

    ``os.wait4`` gives the peak of that one child, not the largest of all children.
    """
    env = {**os.environ, "VACREC_HOME": str(home)}
    env.pop("VACREC_DATABASE_URL", None)
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "vacrec.cli", "ingest", str(data), "--json"],
            env=env, stdout=out, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"vacrec ingest exited with {child.returncode}")
        out.seek(0)
        summary = json.loads(out.read().strip().splitlines()[-1])
    return seconds, usage.ru_maxrss, summary
