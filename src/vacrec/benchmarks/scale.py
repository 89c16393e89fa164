"""`vacrec bench scale`: what a server holds and how fast it answers with N vacancies.

The shared postings are ingested once into a temporary SQLite store and read
back; a catalog of N vacancies repeats them with new ids (copy i gets the
suffix ``~i``). For each N, two fresh processes run in turn, so neither sees
the other's memory:

1. ``build``: builds the snapshot from those records directly (not through
   ``vacrec ingest``, which would take long at a million rows and is not what
   is measured here) and saves it as a serving process would;
2. ``serve``: loads the saved snapshot (checksums verified, arrays
   memory-mapped), reports its resident memory, then times the request path
   in process — ``match`` + ``features_of`` + ``top_k`` + the five cards;
3. ``build-store``: the real path a serving process takes for a new catalog
   version — :func:`load_snapshot` on a store holding the N vacancies (read
   from the database, built, saved, mapped) — with its own peak RSS
   (``vm_hwm_mb``), reported as ``build_from_store``. The store is filled
   beforehand by :func:`write_catalog_version` (the rows an ingest writes, in
   bulk: a real ingest of a million rows takes about nine minutes and would
   drop the replicas as duplicates), then removed.

Replicas share their texts, so the build normalises only 1,240 distinct
postings, and every stem occurs in at least N/1,240 postings (``min_df``
prunes nothing). Build time per distinct posting is reported separately, so
a catalog of N distinct texts can be extrapolated from it.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vacrec.benchmarks.workload import PREFERENCES, replicate

if TYPE_CHECKING:  # the roles import the ranking lazily, in their own processes
    from vacrec.ranking.snapshot import BuildOptions

SIZES = (10_000, 100_000, 1_000_000)
CALLS = 3_000
K = 5
HTTP_CALLS = 1_000
HTTP_WARMUP = 50

Progress = Callable[[str], None]


def run(
    catalog: Path,
    *,
    sizes: Sequence[int] = SIZES,
    calls: int = CALLS,
    http_calls: int = HTTP_CALLS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build, load and query a snapshot at every size; one JSON-ready dictionary."""
    from vacrec.app.ingest import ingest_paths
    from vacrec.store.db import make_engine, migrate

    note = progress or (lambda _message: None)
    result: dict[str, Any] = {
        "benchmark": "scale",
        "catalog": str(catalog),
        "cpu_count": os.cpu_count(),
        "calls_per_size": calls,
        "http_calls_per_size": http_calls,
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="vacrec-bench-scale-") as tmp:
        database = Path(tmp) / "vacrec.db"
        note("ingesting the shared postings")
        engine = make_engine(f"sqlite:///{database}")
        try:
            migrate(engine)
            ingest_paths(engine, [Path(catalog)])
        finally:
            engine.dispose()
        for n in sizes:
            folder = Path(tmp) / f"snapshots-{n}"
            note(f"{n:,} vacancies: building and saving")
            built = _child("build", str(database), str(folder), str(n))
            note(f"{n:,} vacancies: loading and {calls} requests")
            served = _child("serve", str(folder), str(n), str(calls))
            from_store = _build_from_store(database, Path(tmp) / f"store-{n}", n, http_calls, note)
            result["sizes"].append(
                {"vacancies": n, **built, **served, "build_from_store": from_store}
            )
    return result


def _build_from_store(
    source: Path, home: Path, n: int, http_calls: int, note: Progress
) -> dict[str, Any]:
    """Fill a store of ``n`` replicated vacancies, time a fresh process building its snapshot
    through :func:`load_snapshot`, then (``http_calls`` > 0) a real server on it; the store
    is removed afterwards (gigabytes)."""
    from vacrec.store.catalog import read_catalog_records, write_catalog_version
    from vacrec.store.db import make_engine, migrate

    note(f"{n:,} vacancies: filling a store")
    engine = make_engine(f"sqlite:///{source}")
    try:
        _, _, records = read_catalog_records(engine)
    finally:
        engine.dispose()
    home.mkdir()
    database = home / "vacrec.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate(engine)
        started = time.perf_counter()
        write_catalog_version(engine, replicate(records, n), f"bench scale {n}")
        fill_s = time.perf_counter() - started
    finally:
        engine.dispose()
    del records
    note(f"{n:,} vacancies: building the snapshot from the store")
    try:
        figures = _child("build-store", str(database), str(home / "snapshots"))
        if http_calls:
            note(f"{n:,} vacancies: a server on the store, {http_calls} requests over HTTP")
            figures["http"] = _http_on_store(home, database, http_calls)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"fill_s": round(fill_s, 2), **figures}


def _http_on_store(home: Path, database: Path, calls: int) -> dict[str, Any]:
    """A real server started on the filled store (its snapshot saved by the build): seconds
    until ``/readyz`` answers, sequential ``POST /api/v1/recommendations`` latency, and the
    server's resident memory afterwards."""
    import httpx

    from vacrec.benchmarks.serve import rss_bytes, running_server

    rng = random.Random(2)
    times: list[float] = []
    started = time.perf_counter()
    with (
        running_server(home, f"sqlite:///{database}") as (base_url, pid),
        httpx.Client(base_url=base_url, timeout=60) as client,
    ):
        ready_s = time.perf_counter() - started
        skills = client.get("/api/v1/skills").json()["skills"]
        for i in range(calls + HTTP_WARMUP):
            body = {
                "age": 30,
                "skill": skills[i % len(skills)],
                "preference": rng.choice(PREFERENCES),
            }
            sent = time.perf_counter()
            client.post("/api/v1/recommendations", json=body).raise_for_status()
            if i >= HTTP_WARMUP:  # the first requests fault the mapped pages in
                times.append(time.perf_counter() - sent)
        rss_mb = rss_bytes(pid) / 2**20
    times.sort()
    return {
        "ready_s": round(ready_s, 2),
        "requests": calls,
        "median_ms": round(statistics.median(times) * 1000, 3),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))] * 1000, 3),
        "server_rss_mb": round(rss_mb, 1),
    }


def _child(*args: str) -> dict[str, Any]:
    """Run one role of this module in a fresh interpreter; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "vacrec.benchmarks.scale", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"bench scale {args[0]} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _identity(n: int) -> tuple[dict[str, Any], BuildOptions]:
    from vacrec.ranking.snapshot import build_options

    identity = {"version": 1, "created_at": "synthetic", "source": f"bench scale {n}"}
    return {**identity, "vacancies": n}, build_options(n)


def _build(database: str, folder: str, n: int) -> dict[str, Any]:
    from vacrec.ranking.saved import SavedSnapshots, code_fingerprint
    from vacrec.ranking.snapshot import CatalogSnapshot
    from vacrec.store.catalog import read_catalog_records
    from vacrec.store.db import make_engine

    engine = make_engine(f"sqlite:///{database}")
    version, actions, records = read_catalog_records(engine)
    engine.dispose()
    identity, options = _identity(n)
    started = time.perf_counter()
    snapshot = CatalogSnapshot.from_records(
        version, replicate(records, n), actions=actions, **options
    )
    build_s = time.perf_counter() - started
    saved = SavedSnapshots(Path(folder))
    key = saved.key(identity, options)
    expected = {"identity": identity, "options": options, "code": code_fingerprint()}
    started = time.perf_counter()
    target = saved.save(key, {**expected, "actions": list(actions)}, snapshot.index, snapshot.cards)
    save_s = time.perf_counter() - started
    files = {p.name: p.stat().st_size for p in target.iterdir()}
    status = _status()
    return {
        "distinct_postings": len(records),
        "build_s": round(build_s, 2),
        "save_s": round(save_s, 2),
        "build_peak_rss_mb": status["VmHWM"],
        "saved_mb": round(sum(files.values()) / 2**20, 1),
        "saved_descriptions_mb": round(files["cards.description_data.npy"] / 2**20, 1),
        "index_mb": round(snapshot.index.nbytes / 2**20, 1),
        "cards_mb_without_descriptions": round(
            (snapshot.cards.nbytes - files["cards.description_data.npy"]) / 2**20, 1
        ),
        "vocabulary": snapshot.index.vocabulary_size,
        "nnz_per_vacancy": round(snapshot.index.arrays()["matrix_data"].size / n, 1),
        "options": options,
    }


def _serve(folder: str, n: int, calls: int) -> dict[str, Any]:
    from vacrec.ranking.saved import SavedSnapshots, code_fingerprint
    from vacrec.ranking.snapshot import CatalogSnapshot

    before = _status()
    identity, options = _identity(n)
    saved = SavedSnapshots(Path(folder))
    expected = {"identity": identity, "options": options, "code": code_fingerprint()}
    started = time.perf_counter()
    loaded = saved.load(saved.key(identity, options), expected)
    if loaded is None:
        raise RuntimeError("the saved snapshot did not load")
    manifest, index, cards = loaded
    snapshot = CatalogSnapshot(1, tuple(manifest["actions"]), cards, index)
    load_s = time.perf_counter() - started
    loaded_status = _status()

    rng = random.Random(0)
    actions = [a for a in snapshot.actions if snapshot.index.size(a) > 0]
    times: list[float] = []
    for i in range(calls + 50):
        text, industry = rng.choice(PREFERENCES), rng.choice(actions)
        started = time.perf_counter()
        match = snapshot.match(text)
        snapshot.features_of(match)
        shown = [snapshot.cards[vid] for vid, _ in match.top_k(industry, K).items]
        elapsed = time.perf_counter() - started
        assert shown
        if i >= 50:  # the first calls fault the mapped pages in
            times.append(elapsed)
    after = _status()
    times.sort()
    return {
        "load_s": round(load_s, 2),
        "rss_mb_before_load": before["VmRSS"],
        "rss_mb_loaded": loaded_status["VmRSS"],
        "rss_mb_after_requests": after["VmRSS"],
        "rss_anon_mb_after_requests": after["RssAnon"],
        "rss_file_mb_after_requests": after["RssFile"],
        "request_median_ms": round(statistics.median(times) * 1000, 3),
        "request_p99_ms": round(times[int(0.99 * (len(times) - 1))] * 1000, 3),
    }


def _build_store(database: str, folder: str) -> dict[str, Any]:
    """Build (and save) the snapshot of the store's current catalog as a server would."""
    from vacrec.app.snapshots import load_snapshot
    from vacrec.store.db import make_engine

    engine = make_engine(f"sqlite:///{database}")
    before = _peak_rss_mb()
    started = time.perf_counter()
    snapshot = load_snapshot(engine, Path(folder))
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "peak_rss_mb_before_build": before,
        "vm_hwm_mb": _status()["VmHWM"],
        "vacancies": len(snapshot.cards),
    }


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (``ru_maxrss`` is in KiB on Linux). It
    starts at the parent's RSS when forked (``peak_rss_mb_before_build``), so ``VmHWM``,
    this program's own peak, is reported beside it."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _status() -> dict[str, float]:
    """Memory figures of this process from /proc (Linux), in MB."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[name] = round(int(value.split()[0]) / 1024, 1)
    return out


def _main(argv: Sequence[str]) -> None:
    role, *args = argv
    if role == "build":
        figures = _build(args[0], args[1], int(args[2]))
    elif role == "serve":
        figures = _serve(args[0], int(args[1]), int(args[2]))
    elif role == "build-store":
        figures = _build_store(args[0], args[1])
    else:
        raise SystemExit(f"unknown role {role!r}")
    print(json.dumps(figures))


if __name__ == "__main__":
    _main(sys.argv[1:])
