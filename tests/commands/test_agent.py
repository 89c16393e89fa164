"""`vacrec train | evaluate | model | simulate` end to end on a real SQLite store."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from vacrec.app.ingest import ingest_paths
from vacrec.app.simulation import simulate_into_store
from vacrec.cli import app
from vacrec.config import Settings, get_settings


@pytest.fixture
def cli(sqlite_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch):
    demo = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    with resources.as_file(demo) as path:
        ingest_paths(sqlite_engine, [path], source="test")
    explore = settings.model_copy(update={"epsilon": 1.0})
    simulate_into_store(sqlite_engine, explore, events=400, seed=3)
    monkeypatch.setenv("VACREC_HOME", str(settings.home))
    monkeypatch.setenv("VACREC_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> dict:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == code, result.output
        return json.loads(result.stdout.strip().splitlines()[-1])

    yield run
    get_settings.cache_clear()


@pytest.mark.slow
def test_train_promote_rollback_evaluate_and_simulate(cli, settings: Settings):
    assert "--simulated" in cli("train", code=1)["error"]  # simulated logs only when asked
    first = cli("train", "--seed", "2", "--simulated", "--promote", "always")
    assert first["version"] == 1 and first["registered"] is True
    assert first["promoted"] is False and "--allow-simulated" in first["promotion_reason"]
    assert first["champion"] == "content prior" and first["simulated_included"] is True
    assert first["transitions"] == 400 and first["updates"] >= 500
    assert "at most ceil(200 epochs" in first["stopping"]
    assert set(first["ope"]["candidate"]) == {"ips", "snips", "dr"}
    assert Path(first["report"]["png"]).is_file()
    assert (settings.home / "reports" / "model-1.json").is_file()

    # A simulated-trained model goes onto real traffic only on the operator's explicit word.
    assert "--allow-simulated" in cli("model", "promote", "1", code=1)["error"]
    assert cli("model", "list")["live"] is None
    assert cli("model", "promote", "1", "--allow-simulated")["live"] == 1
    assert cli("model", "list")["models"][0]["simulated"] is True

    # Nothing new since model 1: nothing trained, nothing registered, not an error.
    unchanged = cli("train", "--simulated", "--promote", "never")
    assert unchanged["version"] is None and unchanged["registered"] is False
    assert unchanged["newest_version"] == 1 and "no new feedback" in unchanged["reason"]
    assert [m["version"] for m in cli("model", "list")["models"]] == [1]

    cli("simulate", "--events", "20", "--seed", "5")
    second = cli("train", "--simulated", "--promote", "never", "--updates", "50")
    assert second["version"] == 2 and second["promoted"] is False and second["updates"] == 50
    assert second["champion"] == "live model 1" and second["transitions"] == 420
    assert "dr_difference" in second["ope"]  # compared against the live model 1
    cli("simulate", "--events", "20", "--seed", "6")
    # The original's name for the same option still works.
    third = cli("train", "--simulated", "--promote", "never", "--episodes", "40")
    assert third["version"] == 3 and third["updates"] == 40

    assert cli("model", "promote", "2", "--allow-simulated")["live"] == 2
    listed = cli("model", "list")
    assert listed["live"] == 2 and [m["version"] for m in listed["models"]] == [1, 2, 3]
    assert listed["policy"] == "model"
    assert cli("model", "rollback") == {"live": 1, "previous": 2, "policy": "model"}
    assert "not in the registry" in cli("model", "promote", "99", code=1)["error"]

    assert "--simulated" in cli("evaluate", code=1)["error"]
    evaluation = cli("evaluate", "--simulated")
    policies = evaluation["policies"]
    assert set(policies) == {"live", "candidate", "content_prior", "random", "most_popular"}
    assert policies["live"]["version"] == 1 and policies["candidate"]["version"] == 3
    for name in ("live", "content_prior", "random", "most_popular"):
        for est in ("ips", "snips", "dr"):
            e = policies[name][est]
            assert e["low"] <= e["value"] <= e["high"]
    assert evaluation["logged_rows"] == 440 and evaluation["simulated_included"] is True

    assert cli("model", "promote", "3", "--allow-simulated")["live"] == 3
    same = cli("evaluate", "--simulated")["policies"]["candidate"]
    assert same == {"version": 3, "same_as": "live"}  # said, not estimated twice
    assert cli("model", "rollback") == {"live": 1, "previous": 3, "policy": "model"}

    simulated = cli("simulate", "--events", "30", "--epsilon", "0", "--seed", "4")
    assert simulated["events"] == 30 and simulated["model_version"] == 1


def test_promote_prior_and_rollback_in_the_sequences_that_once_failed(cli):
    """promote A, promote B, rollback → A, rollback → prior; promote prior at any time, and
    rollback returns to the model it replaced."""
    cli("train", "--simulated", "--promote", "never", "--updates", "20")
    cli("simulate", "--events", "10", "--seed", "7")
    cli("train", "--simulated", "--promote", "never", "--updates", "20")
    assert cli("model", "promote", "1", "--allow-simulated")["live"] == 1
    assert cli("model", "promote", "2", "--allow-simulated")["live"] == 2
    assert cli("model", "rollback") == {"live": 1, "previous": 2, "policy": "model"}
    to_prior = cli("model", "rollback")
    assert to_prior == {"live": None, "previous": 1, "policy": "content prior"}
    assert "nothing to roll back" in cli("model", "rollback", code=1)["error"]
    listed = cli("model", "list")
    assert listed["live"] is None and listed["policy"] == "content prior"
    assert not any(m["live"] for m in listed["models"])

    assert cli("model", "promote", "2", "--allow-simulated")["live"] == 2
    assert cli("model", "promote", "prior") == {"live": None, "policy": "content prior"}
    assert cli("model", "list")["live"] is None
    assert cli("model", "rollback") == {"live": 2, "previous": None, "policy": "model"}
    assert "expected a model version or 'prior'" in cli("model", "promote", "v2", code=2)["error"]


@pytest.mark.slow
def test_train_allow_simulated_lets_auto_or_always_promote(cli):
    report = cli("train", "--simulated", "--promote", "always", "--allow-simulated")
    assert report["promoted"] is True and report["promotion_reason"] == "promote=always"
    assert cli("model", "list")["live"] == report["version"]
