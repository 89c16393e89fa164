"""`vacrec bench serve`: serving latency against the original's per-request path.

One run measures, on the same catalog and preferences:

1. the original's per-request work (refit TF-IDF on the industry, reload the
   Q-network) — :mod:`vacrec.benchmarks.original`;
2. ``POST /api/v1/recommendations`` over HTTP on loopback against the real
   server (uvicorn in a subprocess, its own SQLite store with the catalog
   ingested), keeping the requests whose chosen industry is a large one, and
   ``CatalogSnapshot.top_k`` alone in process;
3. ``top_k`` on the catalog replicated 10× and 100× with new ids (latency,
   build time, index size, RSS growth) to show the cost grows sub-linearly, and
   ``CatalogSnapshot.expected_cosines_of`` (the card-cosine columns only a model reads);
4. the server's RSS before and after thousands of requests.

With ``model=True`` a model serves instead of the content prior: a network of the size
training makes (``DEFAULT_HIDDEN``, ``DEFAULT_EMBEDDING``) for every skill and industry, saved
and promoted in the benchmark's store before the server starts. Its weights are as
initialised — what a request costs does not depend on them — and every request still
explores (``VACREC_EPSILON`` 1), so the industries served are the same as with the prior.

Figures are medians over many calls; the machine is shared, so they wobble.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import torch
from sqlalchemy import Engine

from vacrec.agent.model_meta import ModelMeta
from vacrec.agent.network import DEFAULT_EMBEDDING, DEFAULT_HIDDEN, ContextualQNetwork
from vacrec.agent.policy import QModel
from vacrec.app.ingest import drop_duplicates, ingest_paths
from vacrec.app.registry import promote, save_model
from vacrec.benchmarks.original import OriginalPath, Posting, save_network
from vacrec.benchmarks.workload import PREFERENCES, replicate
from vacrec.catalog.readers import read_catalog
from vacrec.catalog.schema import CatalogRecord
from vacrec.domain import SkillVocabulary
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.store.catalog import read_catalog_records
from vacrec.store.db import make_engine, migrate

# --- what one run does (named in one place) ------------------------------------------
LARGE_INDUSTRY_MIN = 400  # "large" industries: 400 postings or more
REFERENCE_ROUNDS = 3  # rounds: one reference pass (industries × preferences), then HTTP
TOP_K_CALLS = 3_000  # in-process top_k calls per catalog size
EXPECTED_COSINE_CALLS = 1_000  # in-process expected_cosines_of calls per catalog size
HTTP_WARMUP = 50
HTTP_REQUESTS = 2_000  # sequential requests; also the RSS-growth window
SCALES = (1, 10, 100)
K = 5
REQUIRED_SPEEDUP = 50  # issue 4: HTTP median at least 50× below the original's
AGE = 30
SERVER_START_TIMEOUT_S = 120.0


Progress = Callable[[str], None]


def run(
    catalog_path: Path,
    *,
    http: bool = True,
    scales: Sequence[int] = SCALES,
    http_requests: int = HTTP_REQUESTS,
    reference_rounds: int = REFERENCE_ROUNDS,
    model: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every measurement and return the figures as one JSON-ready dictionary;
    ``model``: a model serves the HTTP requests (see the module docstring).

    The reference and the HTTP requests run in alternating rounds, so both
    see the same load on a shared machine and their ratio stays fair.
    """
    note = progress or (lambda _message: None)
    catalog_path = Path(catalog_path)
    result: dict[str, Any] = {
        "catalog": str(catalog_path),
        "cpu_count": os.cpu_count(),
        "serving": "model" if model else "content prior",
    }

    with tempfile.TemporaryDirectory(prefix="vacrec-bench-serve-") as tmp:
        home = Path(tmp)
        original, large, sizes = _original(catalog_path, home)

        note("ingesting the catalog into a fresh store")
        database_url = f"sqlite:///{home / 'vacrec.db'}"
        engine = make_engine(database_url)
        try:
            migrate(engine)
            started = time.perf_counter()
            report = ingest_paths(engine, [catalog_path])
            result["ingest_s"] = round(time.perf_counter() - started, 3)
            result["vacancies"] = report.vacancies
            version, actions, records = read_catalog_records(engine)
            if model:
                _promote_a_model(engine, actions)
        finally:
            engine.dispose()

        result["scaling"] = _scaling(version, actions, records, large, scales, note)
        result["top_k_ms"] = result["scaling"]["sizes"][0]["top_k_median_ms"]

        reference = _ReferenceTimer(original, large)
        if http:
            note("HTTP: starting the server")
            result["http"] = _http(
                home, database_url, large, http_requests, reference, reference_rounds, note
            )
        else:
            for round_ in range(reference_rounds):
                note(f"reference round {round_ + 1}/{reference_rounds}")
                reference.round()
        result["reference"] = reference.figures(sizes)

    ref_ms = result["reference"]["median_ms"]
    result["speedup_top_k"] = round(ref_ms / result["top_k_ms"], 1)
    if http and result["http"]["median_ms_large"]:
        result["speedup_http"] = round(ref_ms / result["http"]["median_ms_large"], 1)
        result["speedup_required"] = REQUIRED_SPEEDUP
        result["speedup_ok"] = result["speedup_http"] >= REQUIRED_SPEEDUP
    return result


# --- 1. the original ----------------------------------------------------------------


def _original(catalog_path: Path, home: Path) -> tuple[OriginalPath, list[str], dict[str, int]]:
    """The original's table (its own industries, duplicates dropped) and its saved network."""
    read = read_catalog(catalog_path)
    unique, _ = drop_duplicates(read.vacancies)
    postings = [Posting(v.id, v.description, v.industries) for v in unique]
    sizes: dict[str, int] = {}
    for p in postings:
        for group in p.industries:
            sizes[group] = sizes.get(group, 0) + 1
    large = sorted(g for g, n in sizes.items() if n >= LARGE_INDUSTRY_MIN)
    network = save_network(home / "original_q_network.pt", n_actions=len(sizes))
    original = OriginalPath(postings, network, n_actions=len(sizes))
    original.recommend(large[0], PREFERENCES[0], AGE, 0)  # warm imports and caches
    return original, large, sizes


class _ReferenceTimer:
    """Times the original's path over the large industries × the preferences, per round."""

    def __init__(self, original: OriginalPath, large: Sequence[str]) -> None:
        self.original = original
        self.times: dict[str, list[float]] = {g: [] for g in large}

    def round(self) -> None:
        for industry in self.times:
            for skill, preference in enumerate(PREFERENCES):
                started = time.perf_counter()
                self.original.recommend(industry, preference, AGE, skill)
                self.times[industry].append(time.perf_counter() - started)

    def figures(self, sizes: dict[str, int]) -> dict[str, Any]:
        every = [t for times in self.times.values() for t in times]
        return {
            "industries": list(self.times),
            "postings": {g: sizes[g] for g in self.times},
            "requests": len(every),
            "median_ms": _ms(statistics.median(every)),
            "median_ms_by_industry": {g: _ms(statistics.median(t)) for g, t in self.times.items()},
        }


def _promote_a_model(engine: Engine, actions: tuple[str, ...]) -> None:
    """Make a network of the trained size, for every skill and action, the live model."""
    skills = SkillVocabulary().skills
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        network = ContextualQNetwork(len(skills), len(actions), DEFAULT_HIDDEN, DEFAULT_EMBEDDING)
    with engine.begin() as conn:
        version = save_model(conn, QModel(network, skills, actions), ModelMeta())
        promote(conn, version, "bench serve: a model serves")


# --- 3. in-process top_k and the expected card cosine at 1×, 10×, 100× --------------------


def _scaling(
    version: int | None,
    actions: tuple[str, ...],
    records: list[CatalogRecord],
    large: Sequence[str],
    scales: Sequence[int],
    note: Progress,
) -> dict[str, Any]:
    sizes: list[dict[str, Any]] = []
    rng = random.Random(0)
    for scale in scales:
        note(f"scaling: building the {scale}× index")
        rows = list(replicate(records, scale * len(records)))
        gc.collect()
        rss_before = rss_bytes(os.getpid())
        started = time.perf_counter()
        snapshot = CatalogSnapshot.from_records(version, rows, actions=actions)
        build_s = time.perf_counter() - started
        gc.collect()
        rss_after = rss_bytes(os.getpid())
        del rows

        note(f"scaling: {TOP_K_CALLS} top_k calls at {scale}×")
        for industry in large:  # warm-up
            snapshot.top_k(industry, PREFERENCES[0], K)
        times: list[float] = []
        for i in range(TOP_K_CALLS):
            industry = large[i % len(large)]
            preference = rng.choice(PREFERENCES)
            started = time.perf_counter()
            snapshot.top_k(industry, preference, K)
            times.append(time.perf_counter() - started)
        note(f"scaling: {EXPECTED_COSINE_CALLS} expected_cosines_of calls at {scale}×")
        cosine = _expected_cosine_times(snapshot, rng)
        sizes.append(
            {
                "scale": scale,
                "vacancies": len(snapshot.cards),
                "large_industry_postings": {g: snapshot.index.size(g) for g in large},
                "build_s": round(build_s, 3),
                "index_mb": round(snapshot.index.nbytes / 2**20, 2),
                "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
                "top_k_median_ms": _ms(statistics.median(times)),
                "top_k_p95_ms": _ms(statistics.quantiles(times, n=20)[-1]),
                "expected_cosine_median_ms": _ms(statistics.median(cosine)),
                "expected_cosine_p95_ms": _ms(statistics.quantiles(cosine, n=20)[-1]),
            }
        )
        del snapshot
        gc.collect()
    base = sizes[0]
    for size in sizes[1:]:
        factor = size["vacancies"] / base["vacancies"]
        size["catalog_growth"] = round(factor, 1)
        size["latency_growth"] = round(size["top_k_median_ms"] / base["top_k_median_ms"], 2)
        size["sublinear"] = size["latency_growth"] < factor
    return {"sizes": sizes, "calls_per_size": TOP_K_CALLS}


def _expected_cosine_times(snapshot: CatalogSnapshot, rng: random.Random) -> list[float]:
    """Seconds of ``expected_cosines_of`` (what serving calls for a model) per call, on the
    words as serving matches them (the match itself untimed: serving makes it for the other
    columns too)."""
    matches = [snapshot.match(snapshot.topic_of(p)) for p in PREFERENCES]
    for match in matches:  # warm-up (builds the posting rows once per snapshot)
        snapshot.expected_cosines_of(match)
    times: list[float] = []
    for _ in range(EXPECTED_COSINE_CALLS):
        match = rng.choice(matches)
        started = time.perf_counter()
        snapshot.expected_cosines_of(match)
        times.append(time.perf_counter() - started)
    return times


# --- 2 and 4. the real server over HTTP ----------------------------------------------------


def _http(
    home: Path,
    database_url: str,
    large: Sequence[str],
    requests: int,
    reference: _ReferenceTimer,
    rounds: int,
    note: Progress,
) -> dict[str, Any]:
    route = "/api/v1/recommendations"
    with (
        running_server(home, database_url) as (base_url, pid),
        httpx.Client(base_url=base_url) as client,
    ):
        skills = client.get("/api/v1/skills").json()["skills"]
        rng = random.Random(1)

        def body(i: int) -> dict[str, Any]:
            preference = f"{rng.choice(PREFERENCES)} {i}"  # every request a new text
            return {
                "age": AGE,
                "skill": skills[i % len(skills)],
                "preference": preference,
                "k": K,
                "explore": True,
            }

        for i in range(HTTP_WARMUP):
            client.post(route, json=body(i)).raise_for_status()
        server_before = _server_seconds(client, route)

        rss = [rss_bytes(pid)]
        latency: dict[str, list[float]] = {}
        sent = 0
        for round_ in range(rounds):
            note(f"round {round_ + 1}/{rounds}: the original's path")
            reference.round()
            note(f"round {round_ + 1}/{rounds}: HTTP requests")
            for _ in range(requests // rounds + (round_ < requests % rounds)):
                payload = body(HTTP_WARMUP + sent)
                started = time.perf_counter()
                response = client.post(route, json=payload)
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                latency.setdefault(response.json()["action"]["industry"], []).append(elapsed)
                sent += 1
            rss.append(rss_bytes(pid))
        server_after = _server_seconds(client, route)

    every = [t for times in latency.values() for t in times]
    in_large = [t for g in large for t in latency.get(g, [])]
    in_app = (server_after[0] - server_before[0]) / max(1.0, server_after[1] - server_before[1])
    return {
        "requests": len(every),
        "requests_large": len(in_large),
        "median_ms_all": _ms(statistics.median(every)),
        "median_ms_large": _ms(statistics.median(in_large)) if in_large else None,
        "p95_ms_large": _ms(statistics.quantiles(in_large, n=20)[-1]) if in_large else None,
        "median_ms_by_industry": {
            g: _ms(statistics.median(latency[g])) for g in large if latency.get(g)
        },
        "server_mean_ms_in_app": _ms(in_app),
        "server_rss_mb": [round(r / 2**20, 1) for r in rss],
        "server_rss_growth_mb": round((rss[-1] - rss[0]) / 2**20, 1),
    }


def _server_seconds(client: httpx.Client, route: str) -> tuple[float, float]:
    """(sum of seconds, count) the server's own histogram holds for ``route``."""
    total = count = 0.0
    for line in client.get("/metrics").text.splitlines():
        if f'route="{route}"' not in line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        if name.startswith("vacrec_http_request_seconds_sum"):
            total += float(value)
        elif name.startswith("vacrec_http_request_seconds_count"):
            count += float(value)
    return total, count


@contextlib.contextmanager
def running_server(home: Path, database_url: str) -> Iterator[tuple[str, int]]:
    """A real server (uvicorn in a subprocess) on this store, rate limits off, every request
    exploring; yields (base URL, pid) once ``/readyz`` answers."""
    port = _free_port()
    env = {
        **os.environ,
        "VACREC_HOME": str(home),
        "VACREC_DATABASE_URL": database_url,
        "VACREC_EPSILON": "1.0",  # uniform actions even if a model is live: every industry
        # The load comes from one address; the budgets would measure 429s, not serving.
        "VACREC_RATE_LIMIT_RECOMMENDATIONS": "off",
        "VACREC_RATE_LIMIT_REWARDS": "off",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "vacrec.service.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, process, home / "server.log")
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base_url} was not ready in {SERVER_START_TIMEOUT_S} s")


# --- helpers -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 4)
