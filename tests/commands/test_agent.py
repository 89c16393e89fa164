"""`vacrec train | evaluate | model | simulate` end to end on a real SQLite store."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from vacrec.app.ingest import ingest_paths
from vacrec.cli import app
from vacrec.config import Settings, get_settings
from vacrec.learning import simulate_into_store


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


def test_train_promote_rollback_evaluate_and_simulate(cli, settings: Settings):
    assert "--simulated" in cli("train", code=1)["error"]  # simulated logs only when asked
    first = cli("train", "--seed", "2", "--simulated", "--promote", "always")
    assert first["version"] == 1 and first["promoted"] is True
    assert first["champion"] == "content prior" and first["simulated_included"] is True
    assert first["transitions"] == 400 and first["updates"] >= 500
    assert "derived from data size" in first["stopping"]
    assert set(first["ope"]["candidate"]) == {"ips", "snips", "dr"}
    assert Path(first["report"]["png"]).is_file()
    assert (settings.home / "reports" / "model-1.json").is_file()

    assert "nothing to roll back" in cli("model", "rollback", code=1)["error"]

    second = cli("train", "--simulated", "--promote", "never", "--updates", "50")
    assert second["version"] == 2 and second["promoted"] is False and second["updates"] == 50
    assert second["champion"] == "live model 1"
    assert "dr_difference" in second["ope"]  # compared against the live model 1
    # The original's name for the same option still works.
    third = cli("train", "--simulated", "--promote", "never", "--episodes", "40")
    assert third["version"] == 3 and third["updates"] == 40

    assert cli("model", "promote", "2")["live"] == 2
    listed = cli("model", "list")
    assert listed["live"] == 2 and [m["version"] for m in listed["models"]] == [1, 2, 3]
    assert cli("model", "rollback") == {"live": 1, "previous": 2}
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
    assert evaluation["logged_rows"] == 400 and evaluation["simulated_included"] is True

    assert cli("model", "promote", "3")["live"] == 3
    same = cli("evaluate", "--simulated")["policies"]["candidate"]
    assert same == {"version": 3, "same_as": "live"}  # said, not estimated twice
    assert cli("model", "rollback") == {"live": 1, "previous": 3}

    simulated = cli("simulate", "--events", "30", "--epsilon", "0", "--seed", "4")
    assert simulated["events"] == 30 and simulated["model_version"] == 1
