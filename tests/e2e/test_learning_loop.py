"""The whole loop, live: a real `vacrec serve` process learns from its users.

Simulated job seekers (`vacrec simulate --url`) use the HTTP API and rate what
they get; `vacrec train`
runs as its own process on the same store; the running server picks up the
promoted model by itself, and its greedy policy gets better — no restart.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from vacrec.agent.skills import skill_vocabulary
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.http import HttpRecommender
from vacrec.simulate.runner import env_from_catalog
from vacrec.store.db import make_engine

AGES = (18, 27, 36, 45, 54, 63)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VACREC_")}
    env.update(VACREC_HOME=str(tmp_path / "home"), VACREC_EPSILON="1.0", VACREC_MODEL_POLL_S="0.5")
    return env


@pytest.fixture
def served(home_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "vacrec.cli", "serve", "--port", str(port), "--no-bootstrap"],
        env=home_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.2)
    yield url, process
    process.terminate()
    process.wait(timeout=15)
    log.close()


def _greedy_value(client: HttpRecommender, env: JobSeekerEnv) -> float:
    """Mean expected reward of the server's greedy picks over a fixed grid of users."""
    values = []
    for age in AGES:
        for skill_idx, skill in enumerate(env.skills):
            served = client.recommend(age, skill, "", explore=False)
            expected = env.expected_rewards(np.array([age]), np.array([skill_idx]))[0]
            values.append(expected[served.action])
    return float(np.mean(values))


def test_served_policy_improves_after_training_without_a_restart(
    served: tuple[str, subprocess.Popen], home_env: dict[str, str]
) -> None:
    url, process = served
    client = HttpRecommender(url)
    assert client.model_version() is None
    engine = make_engine(f"sqlite:///{Path(home_env['VACREC_HOME']) / 'vacrec.db'}")
    with engine.connect() as conn:
        env = env_from_catalog(conn, skill_vocabulary(), seed=0)
    engine.dispose()
    assert list(env.industries) == client.industries()

    before = _greedy_value(client, env)
    simulated = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "simulate", "--url", url, "--events", "1500",
         "--seed", "1", "--json"],
        env=home_env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    summary = json.loads(simulated.stdout.strip().splitlines()[-1])
    assert summary["events"] == 1500
    assert summary["model_version"] is None

    trained = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "train", "--json"],
        env=home_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(trained.stdout.strip().splitlines()[-1])
    assert report["promoted"] is True
    assert report["transitions"] >= 1500

    deadline = time.monotonic() + 30
    while client.model_version() != report["version"]:
        assert time.monotonic() < deadline, "the server did not switch to the promoted model"
        time.sleep(0.2)

    after = _greedy_value(client, env)
    best = float(np.mean([env.oracle(np.array([a]), np.array([s]))[0]
                          for a in AGES for s in range(len(env.skills))]))  # fmt: skip
    assert after > before + 0.5
    assert (after - before) / (best - before) > 0.6
    assert process.poll() is None  # the same process served throughout


def test_simulating_against_no_server_is_a_clear_error(home_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "simulate", "--url",
         f"http://127.0.0.1:{_free_port()}", "--events", "5", "--json"],
        env=home_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "error" in json.loads(done.stdout.strip().splitlines()[-1])
    assert "Traceback" not in done.stderr
