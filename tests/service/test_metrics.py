"""/metrics under `vacrec serve --workers 2`: every scrape sees the whole server, not one worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serve_process import ServeProcess
from tests.service.conftest import seed_catalog
from vacrec.store.db import make_engine, migrate

N_REQUESTS = 24
N_SCRAPES = 8
WORKERS_UP_WITHIN_S = 90


def _live_worker_pids(url: str) -> set[str | None]:
    return {labels.get("pid") for name, labels, _ in _scrape(url) if name == "vacrec_model_version"}


def _wait_for_workers(url: str, count: int) -> None:
    """/readyz answers once one worker is up; on a busy machine the other may still be starting.
    (Bounded: past it the test's own assertion names what is missing.)"""
    deadline = time.monotonic() + WORKERS_UP_WITHIN_S
    while len(_live_worker_pids(url)) < count and time.monotonic() < deadline:
        time.sleep(0.2)


def _scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    # A new connection each time, so the kernel may hand the scrape to either worker.
    response = httpx.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    ]


@pytest.mark.slow
def test_every_scrape_counts_the_requests_of_both_workers(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    engine.dispose()
    home = tmp_path / "home"
    env = os.environ | {"VACREC_HOME": str(home), "VACREC_DATABASE_URL": sqlite_url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = ServeProcess.start(env, tmp_path / "serve.log", "--workers", "2")
    url = server.url
    try:
        server.wait_ready()
        _wait_for_workers(url, 2)
        for _ in range(N_REQUESTS):
            assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
        scrapes = [_scrape(url) for _ in range(N_SCRAPES)]
        healthz_counts = [
            sum(
                value
                for name, labels, value in samples
                if name == "vacrec_http_requests_total" and labels["route"] == "/healthz"
            )
            for samples in scrapes
        ]
        assert healthz_counts == [N_REQUESTS] * N_SCRAPES
        version_gauges = [
            labels for name, labels, _ in scrapes[-1] if name == "vacrec_model_version"
        ]
        # One live gauge per worker, labelled by pid, rather than whichever one answered.
        assert len({labels.get("pid") for labels in version_gauges}) == 2
        assert len(list((home / "prometheus").iterdir())) == 1  # this start's directory
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert list((home / "prometheus").iterdir()) == []  # removed when the server stops


# Runs in a fresh interpreter: prometheus-client picks multiprocess mode when first imported.
_ONE_WORKER = """
import os, sys, time, httpx
from tests.live_server import serve_in_thread
from vacrec.service.app import create_app
with serve_in_thread(create_app()) as url:
    assert httpx.get(url + "/healthz").status_code == 200
    deadline = time.monotonic() + 10  # the middleware counts once the response has gone out
    while not any(f.startswith("counter") for f in os.listdir(sys.argv[1])):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    print(sorted(os.listdir(sys.argv[1])))
print(sorted(os.listdir(sys.argv[1])))
"""


def test_a_stopping_worker_leaves_its_counters_and_drops_its_live_gauges(
    tmp_path: Path, sqlite_url: str
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = os.environ | {
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": sqlite_url,
    }
    result = subprocess.run(
        [sys.executable, "-c", _ONE_WORKER, str(shared)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    running, stopped = result.stdout.strip().splitlines()[-2:]
    assert "gauge_liveall" in running and "counter" in running
    assert "gauge_liveall" not in stopped  # mark_process_dead ran at lifespan shutdown
    assert "counter" in stopped  # a gone worker's requests still count
