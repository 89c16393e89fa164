"""`vacrec bench load`: simulated job seekers (recommend -> feedback) against a real
`vacrec serve --workers N`, on a fresh SQLite or PostgreSQL store; every acknowledged
rating is then looked up in the database.

The load generator is a hand-written loop on httpx's async client rather than locust:
locust's library mode needs gevent's monkey-patching of the whole process (which breaks
the threads, sockets and asyncio loops the tests and this command use around it) and
reports sampled percentiles, while httpx is already a dependency and asyncio runs many
truly concurrent keep-alive clients in one thread, each latency measured exactly. The
load and crash proofs in tests/ use the same clients and server starter.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from vacrec.app.ingest import DEMO_PACKAGE, DEMO_PATH, ingest_paths
from vacrec.store.db import make_engine, migrate
from vacrec.store.tables import feedback

CLIENTS = 32
PREFERENCES = ["акварель", "игры unity персонажи", "реклама баннеры", "театр декорации", "", "3D"]
# A first start builds the catalog's snapshot, encoder included: 13 s for the 2023 catalog on
# a quiet machine, several times that while the parallel test suite shares the two cores
# (90 s ran out once in CI). Only a failing start waits this long.
READY_TIMEOUT_S = 240
WARMUP_S = 1.0
POSTGRES_URL = os.environ.get(
    "VACREC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# --- the clients ------------------------------------------------------------------------


@dataclass
class LoadStats:
    """What the clients saw: latency per route, statuses, acknowledged writes."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"recommend": [], "feedback": []}
    )
    statuses: Counter[str] = field(default_factory=Counter)
    route_statuses: dict[str, Counter[str]] = field(
        default_factory=lambda: {"recommend": Counter(), "feedback": Counter()}
    )
    served: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    transport_errors: int = 0

    def record(self, route: str, response: httpx.Response, seconds: float) -> None:
        self.latencies[route].append(seconds)
        self.statuses[str(response.status_code)] += 1
        self.route_statuses[route][str(response.status_code)] += 1


def _tls() -> ssl.SSLContext:
    """One TLS context for every client of a run: httpx builds one per client otherwise,
    loading the CA bundle each time (~90 ms of CPU on a busy host), and 32 clients
    starting at once stalled the one event loop that times them all by seconds, which the
    requests in flight counted as their own latency."""
    return httpx.create_ssl_context()


async def seeker(
    url: str,
    skills: list[str],
    deadline: float,
    stats: LoadStats,
    rng: random.Random,
    *,
    until: Callable[[], bool] = lambda: False,
    tls: ssl.SSLContext | None = None,
) -> None:
    """One job seeker on its own keep-alive connection, until the deadline or ``until()``."""
    async with httpx.AsyncClient(base_url=url, timeout=30, verify=tls or _tls()) as client:
        while time.monotonic() < deadline and not until():
            request = {
                "age": rng.randint(18, 65),
                "skill": rng.choice(skills),
                "preference": rng.choice(PREFERENCES),
            }
            started = time.perf_counter()
            response = await client.post("/api/v1/recommendations", json=request)
            stats.record("recommend", response, time.perf_counter() - started)
            if response.status_code != 200:
                continue
            body = response.json()
            stats.served.append(body["event_id"])
            votes = [{"vacancy_id": i["id"], "vote": rng.choice((1, -1))} for i in body["items"]]
            rating: dict[str, Any] = {"event_id": body["event_id"], "votes": votes}
            if not votes:
                rating = {"event_id": body["event_id"], "cum_reward": 0}
            started = time.perf_counter()
            response = await client.post("/api/v1/feedback", json=rating)
            stats.record("feedback", response, time.perf_counter() - started)
            if response.status_code == 200:
                stats.acknowledged.append(body["event_id"])


async def run_load(
    url: str,
    seconds: float,
    clients: int = CLIENTS,
    seed: int = 0,
    stats: LoadStats | None = None,
    until: Callable[[], bool] = lambda: False,
) -> LoadStats:
    """``clients`` seekers for ``seconds`` or until ``until()`` says stop, whichever comes
    first; a seeker that hits a transport error stops."""
    stats = stats if stats is not None else LoadStats()
    tls = _tls()
    async with httpx.AsyncClient(base_url=url, timeout=30, verify=tls) as client:
        skills = (await client.get("/api/v1/skills")).json()["skills"]
    deadline = time.monotonic() + seconds
    tasks = [
        seeker(url, skills, deadline, stats, random.Random(seed + i), until=until, tls=tls)
        for i in range(clients)
    ]
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, httpx.TransportError):
            stats.transport_errors += 1
        elif isinstance(outcome, BaseException):
            raise outcome
    return stats


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0–100) of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def vacrec_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a vacrec command on this store, rate limits and the client share
    cap off.

    Every load client shares 127.0.0.1, so per-address budgets and shares would only
    measure themselves (tests/service/test_rate_limits.py and test_steering.py cover them).
    """
    return os.environ | {
        "VACREC_HOME": str(home),
        "VACREC_DATABASE_URL": database_url,
        "VACREC_RATE_LIMIT_RECOMMENDATIONS": "off",
        "VACREC_RATE_LIMIT_REWARDS": "off",
        "VACREC_TRAIN_MAX_CLIENT_SHARE": "1",
        **extra,
    }


@dataclass
class ServeProcess:
    """A running ``vacrec serve`` in its own process group; ``url`` is its base URL.

    The group matters for ``kill -9``: with ``--workers N`` uvicorn forks workers, and
    killing only the supervisor would leave them serving.
    """

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, env: dict[str, str], log: Path, *args: str) -> ServeProcess:
        """Start it; its output goes to ``log`` (a pipe nobody reads would fill and block it)."""
        port = free_port()
        cmd = [sys.executable, "-m", "vacrec.cli", "serve", "--port", str(port), *args]
        with log.open("ab") as out:
            process = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(process, f"http://127.0.0.1:{port}", log)

    def wait_ready(self) -> float:
        """Poll /readyz until 200; return the seconds it took from now."""
        started = time.monotonic()
        while time.monotonic() - started < READY_TIMEOUT_S:
            if self.process.poll() is not None:
                output = self.log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"vacrec serve exited: {output}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("vacrec serve never became ready")

    def kill9(self) -> None:
        """SIGKILL the supervisor and every worker at once, as a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM (graceful); SIGKILL the group if it does not exit."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()


# --- the benchmark ------------------------------------------------------------------------


@contextmanager
def demo_catalog() -> Iterator[Path]:
    """The bundled demo catalog as a file path."""
    with resources.as_file(resources.files(DEMO_PACKAGE).joinpath(DEMO_PATH)) as path:
        yield path


@contextmanager
def fresh_store(database: str, work: Path) -> Iterator[tuple[str, str]]:
    """(kind, URL) of an empty migrated store: ``sqlite`` in ``work``, ``postgres`` a new
    schema on the test server (dropped afterwards), or any SQLAlchemy URL as given."""
    if database == "sqlite":
        url = f"sqlite:///{work / 'home' / 'vacrec.db'}"
        (work / "home").mkdir(parents=True, exist_ok=True)
        yield "sqlite", url
        return
    if database != "postgres":
        yield ("postgres" if database.startswith("postgresql") else "other"), database
        return
    schema = f"bench_load_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield "postgres", f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def stored_ratings(database_url: str, event_ids: list[str]) -> int:
    """How many of ``event_ids`` have their feedback row in the database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(feedback.c.event_id).where(feedback.c.event_id.is_not(None)))
            stored = {row[0] for row in rows}
    finally:
        engine.dispose()
    return len(set(event_ids) & stored)


def _ms(values: list[float], q: float) -> float | None:
    return round(1000 * percentile(sorted(values), q), 2) if values else None


def run(
    catalog: Path,
    *,
    clients: int = CLIENTS,
    seconds: float = 30.0,
    workers: int = 2,
    database: str = "sqlite",
    progress: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Ingest ``catalog`` into a fresh store, serve it, load it, verify what was acknowledged."""
    with tempfile.TemporaryDirectory(prefix="vacrec-bench-load-") as tmp:
        work = Path(tmp)
        with fresh_store(database, work) as (kind, url):
            progress(f"ingesting {catalog.name}")
            engine = make_engine(url)
            try:
                migrate(engine)
                vacancies = ingest_paths(engine, [catalog]).inserted
            finally:
                engine.dispose()
            progress(f"starting vacrec serve --workers {workers}")
            home = work / "home"
            home.mkdir(exist_ok=True)
            server = ServeProcess.start(
                vacrec_env(home, url), work / "serve.log", "--workers", str(workers)
            )
            try:
                server.wait_ready()
                progress("warming up")
                asyncio.run(run_load(server.url, WARMUP_S, clients, seed=1_000_000))
                progress(f"{clients} clients for {seconds:g} s")
                started = time.monotonic()
                stats = asyncio.run(run_load(server.url, seconds, clients))
                elapsed = time.monotonic() - started
            finally:
                server.stop()
            progress("verifying acknowledged ratings")
            stored = stored_ratings(url, stats.acknowledged)
    return _figures(stats, elapsed, clients, workers, kind, catalog, vacancies, stored)


def _figures(
    stats: LoadStats,
    elapsed: float,
    clients: int,
    workers: int,
    kind: str,
    catalog: Path,
    vacancies: int,
    stored: int,
) -> dict[str, Any]:
    requests = sum(stats.statuses.values())
    pairs = len(stats.latencies["feedback"])
    errors = {s: n for s, n in sorted(stats.statuses.items()) if not s.startswith("2")}
    acknowledged = len(stats.acknowledged)
    return {
        "benchmark": "load",
        "cores": os.cpu_count(),
        "clients": clients,
        "workers": workers,
        "database": kind,
        "catalog": catalog.name,
        "vacancies": vacancies,
        "seconds": round(elapsed, 2),
        "requests": requests,
        "pairs": pairs,
        "requests_per_s": round(requests / elapsed, 1),
        "pairs_per_s": round(pairs / elapsed, 1),
        "latency_ms": {
            route: {"p50": _ms(values, 50), "p99": _ms(values, 99), "max": _ms(values, 100)}
            for route, values in stats.latencies.items()
        },
        "statuses": {r: dict(sorted(c.items())) for r, c in stats.route_statuses.items()},
        "errors": errors,
        "errors_5xx": sum(n for s, n in stats.statuses.items() if s.startswith("5")),
        "transport_errors": stats.transport_errors,
        "acknowledged": acknowledged,
        "stored": stored,
        "lost": acknowledged - stored,
    }
