#!/usr/bin/env python3
"""A SQLite store that turns read-only, or whose disk fills, for 20 s under load: how soon
after the condition clears does `vacrec serve` serve again, and without a restart?

Usage (from the project root, as root: it uses ``chattr`` and mounts a tmpfs):
    .venv/bin/python scripts/bench-disk-trouble.py [--condition read-only|disk-full|both]
        [--hold-s 20] [--clients 8] [--workers 2] [--catalog ../shared/data/...xlsx]

For each condition a fresh store gets the shared catalog and `vacrec serve --workers N`
starts on it; ``--clients`` seekers (recommend -> feedback, vacrec.benchmarks.load's) run
throughout. 5 s in, the condition starts:

- ``read-only``: the database file and its WAL are made immutable (``chattr +i``, which
  stops root too; what SQLite meets is what it meets on a read-only mount: I/O errors on
  open connections, read-only connections from new ones);
- ``disk-full``: the store lives on a tmpfs of ``--fs-mb`` MB, and a file fills every free
  byte of it.

After ``--hold-s`` the condition is lifted (``chattr -i``; the filler deleted) and the load
goes on for 10 s. Prints one JSON line per condition: the statuses during and after, the
seconds from lifting to the first 200 of each route (``first_ok_s``) and to the end of the
last non-200 (``all_ok_s``: from then on every request was served), and how many worker
processes started after the first ones (``worker_restarts``: 0 means no restart).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from vacrec.app.ingest import ingest_paths
from vacrec.benchmarks.load import LoadStats, ServeProcess, run_load, vacrec_env
from vacrec.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT.parent / "shared" / "data" / "hh_artist_vacancies_2023.xlsx"
BEFORE_S = 5.0
AFTER_S = 10.0
STARTED = re.compile(r"Started server process \[(\d+)\]")


class Timed(LoadStats):
    """LoadStats that also keep when each response arrived, with its route and status."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[float, str, int]] = []

    def record(self, route: str, response: httpx.Response, seconds: float) -> None:
        super().record(route, response, seconds)
        self.answers.append((time.monotonic(), route, response.status_code))


def _chattr(flag: str, paths: list[Path]) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@contextmanager
def read_only(database: Path) -> Iterator[None]:
    files = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    _chattr("+i", files)  # -shm stays writable: it is memory-mapped
    try:
        yield
    finally:
        _chattr("-i", files)


@contextmanager
def disk_full(database: Path) -> Iterator[None]:
    filler = database.parent / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 4096):  # whole megabytes, then the last pages
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    try:
        yield
    finally:
        filler.unlink()


@contextmanager
def tmpfs(folder: Path, megabytes: int) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)], check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _seconds_to_recover(answers: list[tuple[float, str, int]], lifted: float) -> dict[str, object]:
    after = [(t - lifted, route, status) for t, route, status in answers if t >= lifted]
    first_ok = {
        route: next((round(t, 2) for t, r, s in after if r == route and s == 200), None)
        for route in ("recommend", "feedback")
    }
    failing = [t for t, _, s in after if s != 200]
    return {"first_ok_s": first_ok, "all_ok_s": round(max(failing), 2) if failing else 0.0}


def run(condition: str, args: argparse.Namespace, work: Path) -> dict[str, object]:
    home = work / "home"
    if condition == "disk-full":
        mount = tmpfs(home, args.fs_mb)
    else:
        home.mkdir(parents=True)
        mount = None
    with mount if mount is not None else _nothing():
        url = f"sqlite:///{home / 'vacrec.db'}"
        engine = make_engine(url)
        migrate(engine)
        ingest_paths(engine, [args.catalog])
        engine.dispose()
        log = work / f"serve-{condition}.log"
        server = ServeProcess.start(vacrec_env(home, url), log, "--workers", str(args.workers))
        try:
            server.wait_ready()
            asyncio.run(run_load(server.url, 1.0, args.clients, seed=1000))  # warm-up
            workers_before = len(STARTED.findall(log.read_text(errors="replace")))
            stats = Timed()
            marks: dict[str, float] = {}
            trouble = read_only if condition == "read-only" else disk_full

            def condition_thread() -> None:
                time.sleep(BEFORE_S)
                with trouble(home / "vacrec.db"):
                    marks["started"] = time.monotonic()
                    time.sleep(args.hold_s)
                marks["lifted"] = time.monotonic()

            thread = threading.Thread(target=condition_thread)
            thread.start()
            total = BEFORE_S + args.hold_s + AFTER_S
            asyncio.run(run_load(server.url, total, args.clients, stats=stats))
            thread.join()
            workers_after = len(STARTED.findall(log.read_text(errors="replace")))
        finally:
            server.stop()
    started, lifted = marks["started"], marks["lifted"]

    def statuses(keep: Callable[[float], bool]) -> dict[str, int]:
        return dict(sorted(Counter(str(s) for t, _, s in stats.answers if keep(t)).items()))

    return {
        "benchmark": "disk-trouble",
        "condition": condition,
        "hold_s": args.hold_s,
        "clients": args.clients,
        "workers": args.workers,
        "before": statuses(lambda t: t < started),
        "during": statuses(lambda t: started <= t < lifted),
        "after": statuses(lambda t: t >= lifted),
        **_seconds_to_recover(stats.answers, lifted),
        "worker_restarts": workers_after - workers_before,
        "transport_errors": stats.transport_errors,
    }


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--condition", choices=["read-only", "disk-full", "both"], default="both")
    parser.add_argument("--hold-s", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fs-mb", type=int, default=256)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        raise SystemExit("needs root and chattr (to freeze the file, to mount a tmpfs)")
    conditions = ["read-only", "disk-full"] if args.condition == "both" else [args.condition]
    for condition in conditions:
        with tempfile.TemporaryDirectory(prefix="vacrec-bench-disk-") as work:
            print(json.dumps(run(condition, args, Path(work))), flush=True)


if __name__ == "__main__":
    main()
