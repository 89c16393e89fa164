"""`vacrec serve` as a user runs it: a subprocess on a free port, workers sharing the database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.serve_process import ServeProcess, vacrec_env
from tests.service.conftest import seed_catalog
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


SWAP_WITHIN_S = 20  # a poll of 0.5 s, plus loading torch and the model in each worker


def _workers_logging_the_swap(log: Path, version: int) -> set[str]:
    """Process ids of the workers that logged switching to ``version``."""
    line = re.compile(
        rf"\[(\d+)\]: serving model version {version} instead of the content prior \(.+\)"
    )
    return {m.group(1) for m in line.finditer(log.read_text(errors="replace"))}


@pytest.mark.slow
def test_serve_with_two_workers_shares_the_database(database_url: str, tmp_path: Path) -> None:
    """Both workers serve and rate from one store, and each says when a new model goes live."""
    engine = make_engine(database_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    env = os.environ | {
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": database_url,
        "VACREC_MODEL_POLL_S": "0.5",
    }
    server = ServeProcess.start(env, tmp_path / "serve.log", "--workers", "2")
    url = server.url
    try:
        server.wait_ready()
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

        train = ["train", "--updates", "50", "--promote", "always", "--json"]
        trained = subprocess.run(
            [sys.executable, "-m", "vacrec.cli", *train],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        version = json.loads(trained.stdout.strip().splitlines()[-1])["version"]
        deadline = time.monotonic() + SWAP_WITHIN_S
        while len(_workers_logging_the_swap(server.log, version)) < 2:
            assert time.monotonic() < deadline, server.log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
    finally:
        server.stop()
        engine.dispose()
    assert server.process.returncode is not None


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_ignores_forwarded_headers_from_an_untrusted_peer(
    database_url: str, tmp_path: Path
) -> None:
    """uvicorn alone would trust X-Forwarded-For from loopback: a client there rotating it
    got a fresh budget per request. `vacrec serve` trusts only VACREC_TRUSTED_PROXIES."""
    engine = make_engine(database_url)
    migrate(engine)
    seed_catalog(engine, tmp_path)
    env = vacrec_env(
        tmp_path / "home",
        database_url,
        VACREC_RATE_LIMIT_RECOMMENDATIONS="3/minute",
        VACREC_RATE_LIMIT_DELAY_S="0",  # the 429s' status is the subject, not their delay
    )
    server = ServeProcess.start(env, tmp_path / "serve.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            statuses = [
                client.post(
                    "/api/v1/recommendations",
                    json={"age": 30, "skill": "акварель"},
                    headers={"X-Forwarded-For": f"198.51.100.{i}"},
                ).status_code
                for i in range(1, 6)
            ]
    finally:
        server.stop()
        engine.dispose()
    assert statuses == [200, 200, 200, 429, 429]


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


def test_refresh_every_needs_the_queries_of_an_earlier_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from vacrec.cli import app
    from vacrec.config import get_settings

    monkeypatch.setenv("VACREC_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        too_often = CliRunner().invoke(app, ["serve", "--refresh-every", "1m"])
        no_queries = CliRunner().invoke(app, ["serve", "--refresh-every", "6h"])
    finally:
        get_settings.cache_clear()
    assert too_often.exit_code == 2 and "10m" in too_often.output
    assert no_queries.exit_code == 2 and "--query" in no_queries.output


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_refreshes_in_the_background_while_it_serves(
    database_url: str, tmp_path: Path
) -> None:
    """The first background refresh runs at start: postings hh.ru added since the last
    refresh get served, and the server answers throughout."""
    from tests.collect.hh_server import HHTestServer, numbered_vacancies
    from vacrec.app.refresh import RefreshQuery, refresh_once
    from vacrec.config import Settings

    engine = make_engine(database_url)
    migrate(engine)
    hh_env = {
        "VACREC_HH_RATE_PER_S": "1000",
        "VACREC_HH_MAX_ATTEMPTS": "2",
        "VACREC_CATALOG_POLL_S": "0.5",
    }
    with HHTestServer(numbered_vacancies(12)).running() as hh:
        hh.order[:] = hh.order[:6]  # hh.ru lists six at first
        settings = Settings(
            home=tmp_path / "home", database_url=database_url, hh_api_url=hh.url,
            hh_rate_per_s=1000.0, hh_max_attempts=2,
        )  # fmt: skip
        assert refresh_once(engine, settings, [RefreshQuery("откликов")]).inserted == 6
        hh.order[:] = list(hh.vacancies)  # then twelve
        env = vacrec_env(tmp_path / "home", database_url, VACREC_HH_API_URL=hh.url, **hh_env)
        server = ServeProcess.start(env, tmp_path / "serve.log", "--refresh-every", "6h")
        try:
            server.wait_ready()
            deadline = time.monotonic() + 120
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while True:
                    response = client.post(
                        "/api/v1/recommendations", json={"age": 30, "skill": "акварель"}
                    )
                    assert response.status_code == 200  # serving never stops meanwhile
                    with engine.connect() as conn:
                        refreshed = conn.execute(
                            text("SELECT count(*) FROM catalog_refreshes")
                        ).scalar()
                    if refreshed == 2:
                        break
                    assert time.monotonic() < deadline, server.log.read_text()[-3000:]
                    time.sleep(0.2)
            with engine.connect() as conn:
                served = conn.execute(
                    text("SELECT count(*) FROM vacancies WHERE retired_at IS NULL")
                ).scalar()
            assert served == 12
        finally:
            server.stop()
            engine.dispose()
