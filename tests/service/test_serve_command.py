"""`vacrec serve` as a user runs it: a subprocess on a free port, workers sharing the database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import ARTS, seed_catalog
from vacrec.commands.serve import parse_duration
from vacrec.store.db import make_engine, migrate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("90s", 90), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("1d", 86400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "0", "90", "5", "0m", "m10", "-5m", "1h 30m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_serve(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "vacrec.cli", "serve", "--port", str(port), *args]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("vacrec serve never became ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_serve_with_two_workers_shares_the_database(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    env = os.environ | {
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": database_url,
    }
    process, url = _run_serve(env, "--workers", "2")
    try:
        _wait_ready(process, url)
        event_ids = []
        for _ in range(6):  # new connections: the kernel spreads them over both workers
            with httpx.Client(base_url=url, timeout=30) as client:
                response = client.post(
                    "/api/v1/recommendations", json={"age": 30, "skill": "акварель"}
                )
                assert response.status_code == 200
                event_ids.append(response.json()["event_id"])
        for event_id in event_ids:  # any worker can rate any event: state is in the database
            with httpx.Client(base_url=url, timeout=30) as client:
                response = client.post(
                    "/api/v1/feedback", json={"event_id": event_id, "cum_reward": 1}
                )
                assert response.status_code == 200, response.text
    finally:
        _stop(process)
        engine.dispose()
    assert process.returncode is not None


def test_empty_store_gets_the_demo_catalog_once(engine) -> None:  # type: ignore[no-untyped-def]
    from vacrec.learning import ensure_catalog
    from vacrec.store.catalog import catalog_industries, current_catalog_version

    ensure_catalog(engine)
    with engine.connect() as conn:
        version = current_catalog_version(conn)
        industries = catalog_industries(conn)
    assert version is not None and len(industries) >= 2
    ensure_catalog(engine)  # not empty any more: nothing is loaded again
    with engine.connect() as conn:
        assert current_catalog_version(conn) == version


def test_retrain_once_trains_from_logged_feedback(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from vacrec.agent.registry import live_version
    from vacrec.config import Settings
    from vacrec.learning import retrain_once
    from vacrec.service.recommender import Recommender

    settings = Settings(home=tmp_path / "home", epsilon=1.0)
    assert retrain_once(engine, settings) is None  # empty store: skipped, not an error
    seed_catalog(engine, tmp_path)
    assert retrain_once(engine, settings) is None  # no feedback yet
    recommender = Recommender.from_store(engine, settings, seed=1)
    for i in range(60):  # the words say IT first, but these seekers only like the arts
        rec = recommender.recommend(20 + i % 40, "геймдев", "игры unity, театр", k=2)
        recommender.feedback(rec.event_id, cum_reward=2 if rec.industry == ARTS else -2)
    report = retrain_once(engine, settings)
    assert report is not None and report["transitions"] == 60
    assert report["promoted"] is True and report["champion"] == "content prior"
    with engine.connect() as conn:
        assert live_version(conn) == report["version"]

    # Nothing new: no new model (a bare retrain loop once registered one every 5 s).
    assert retrain_once(engine, settings) is None
    rec = recommender.recommend(30, "геймдев", "игры", k=2)
    recommender.feedback(rec.event_id, cum_reward=1)
    again = retrain_once(engine, settings)
    assert again is not None and again["version"] == report["version"] + 1


@pytest.mark.parametrize(
    ("value", "says"), [("5", "needs a unit"), ("30s", "at least 60 s"), ("0.5m", "at least 60 s")]
)
def test_retraining_more_often_than_a_minute_is_refused(
    value: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from vacrec.cli import app
    from vacrec.config import get_settings

    monkeypatch.setenv("VACREC_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--retrain-every", value])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert says in result.output and "--retrain-every" in result.output
    assert not (tmp_path / "vacrec.db").exists()  # refused before anything started
