"""The whole loop, live: a real `vacrec serve` process learns from its users.

The server starts with no model: the content prior serves. Simulated job
seekers (`vacrec simulate --url`) use the HTTP API and rate what they get;
`vacrec train` runs as its own process on the same store and registers a
model (forced live here: whether 1,500 events on the demo catalog prove it
better is the promotion rule's call, tested elsewhere); the running server
picks it up by itself and serves its greedy choices — no restart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.serve_process import ServeProcess, free_port
from vacrec.app.serving import SeekerRequest
from vacrec.app.snapshots import load_snapshot
from vacrec.app.training import HOLDOUT_SHARE
from vacrec.domain import SkillVocabulary
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.http import HttpRecommender
from vacrec.simulate.population import Seekers
from vacrec.store.db import make_engine

PROBE_SEEKERS = 120  # fixed seekers whose greedy picks are scored before and after


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VACREC_")}
    env.update(VACREC_HOME=str(tmp_path / "home"), VACREC_EPSILON="1.0", VACREC_MODEL_POLL_S="0.5")
    # Thousands of simulated seekers share one address: lift the per-address budgets and
    # the one-identity share of the training rows (tests/service/test_steering.py covers it).
    env.update(VACREC_RATE_LIMIT_RECOMMENDATIONS="off", VACREC_RATE_LIMIT_REWARDS="off")
    env.update(VACREC_TRAIN_MAX_CLIENT_SHARE="1")
    return env


@pytest.fixture
def served(home_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    server = ServeProcess.start(home_env, tmp_path / "serve.log")
    try:
        server.wait_ready()
        yield server.url, server.process
    finally:
        server.stop()


def _greedy_value(client: HttpRecommender, env: JobSeekerEnv, seekers: Seekers) -> float:
    """Mean expected reward of the server's greedy picks for fixed simulated seekers."""
    expected = env.expected_rewards(seekers)
    values = []
    for i in range(len(seekers)):
        seeker = seekers[i]
        request = SeekerRequest(
            seeker.age, env.skills[seeker.skill], seeker.preference, explore=False
        )
        served = client.serve(request)
        values.append(expected[i, served.action])
    return float(np.mean(values))


@pytest.mark.slow
def test_served_policy_improves_after_training_without_a_restart(
    served: tuple[str, subprocess.Popen], home_env: dict[str, str]
) -> None:
    url, process = served
    client = HttpRecommender(url)
    assert client.model_version() is None
    engine = make_engine(f"sqlite:///{Path(home_env['VACREC_HOME']) / 'vacrec.db'}")
    env = JobSeekerEnv(load_snapshot(engine), SkillVocabulary().skills, seed=0)
    engine.dispose()
    assert list(env.industries) == client.industries()
    seekers = env.sample_seekers(PROBE_SEEKERS, np.random.default_rng(99))

    before = _greedy_value(client, env, seekers)
    simulated = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "simulate", "--url", url, "--events", "1500",
         "--seed", "1", "--json"],
        env=home_env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    summary = json.loads(simulated.stdout.strip().splitlines()[-1])
    assert summary["events"] == 1500
    assert summary["model_version"] is None

    trained = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "train", "--promote", "always", "--json"],
        env=home_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(trained.stdout.strip().splitlines()[-1])
    # Over HTTP the server cannot tell these seekers are simulated: real traffic to it.
    assert report["promoted"] is True and report["champion"] == "content prior"
    # A fifth of each industry's events is held out, each rounded: within half an event each.
    assert report["transitions"] >= 1500
    assert abs(report["held_out"] - HOLDOUT_SHARE * 1500) <= 0.5 * len(client.industries())

    deadline = time.monotonic() + 30
    while client.model_version() != report["version"]:
        assert time.monotonic() < deadline, "the server did not switch to the promoted model"
        time.sleep(0.2)

    after = _greedy_value(client, env, seekers)
    random = float(env.expected_rewards(seekers).mean())
    assert before > random + 0.1  # the content prior already beats picking at random
    assert after > random + 0.1  # and the learned policy does too
    body = httpx.post(
        f"{url}/api/v1/recommendations",
        json={"age": 30, "skill": "иллюстрация", "preference": "детские книги", "explore": False},
    ).json()
    assert body["model_version"] == report["version"]
    assert body["explanation"]["policy"] == "model"
    assert all(row["learned"] is not None for row in body["explanation"]["industries"])
    assert process.poll() is None  # the same process served throughout


@pytest.mark.slow
def test_simulating_against_no_server_is_a_clear_error(home_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vacrec.cli", "simulate", "--url",
         f"http://127.0.0.1:{free_port()}", "--events", "5", "--json"],
        env=home_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "error" in json.loads(done.stdout.strip().splitlines()[-1])
    assert "Traceback" not in done.stderr
