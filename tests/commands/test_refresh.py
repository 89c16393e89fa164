"""`vacrec refresh` from the command line: JSON summary, remembered queries, the token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.collect.hh_server import HHTestServer, Reply, error_body
from vacrec.cli import app
from vacrec.config import get_settings

ALL = "откликов"


@pytest.fixture
def cli_env(
    tmp_path: Path, sqlite_url: str, hh_server: HHTestServer, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    env = {
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": sqlite_url,
        "VACREC_HH_API_URL": hh_server.url,
        "VACREC_HH_RATE_PER_S": "1000",
        "VACREC_HH_TIMEOUT_S": "2",
        "VACREC_HH_MAX_ATTEMPTS": "2",
    }
    monkeypatch.delenv("VACREC_HH_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def last_json(stdout: str) -> dict:  # type: ignore[type-arg]
    return json.loads(stdout.strip().splitlines()[-1])


def test_refresh_prints_its_summary_and_the_next_run_reuses_the_queries(cli_env, hh_server):  # type: ignore[no-untyped-def]
    first = invoke("refresh", "--query", ALL, "--json")
    assert first.exit_code == 0, first.output
    summary = last_json(first.stdout)
    assert {"collected", "inserted", "updated", "retired"} <= summary.keys()
    assert summary["collected"] == 12 and summary["inserted"] == 12 and summary["retired"] == 0

    second = invoke("refresh", "--json")  # no --query: the last refresh's
    assert second.exit_code == 0, second.output
    assert last_json(second.stdout)["queries"] == [{"query": ALL, "area": None, "max_pages": None}]
    assert last_json(second.stdout)["inserted"] == 0


def test_refresh_without_any_query_says_how_to_give_one(cli_env):  # type: ignore[no-untyped-def]
    result = invoke("refresh", "--json")
    assert result.exit_code == 2
    assert "--query" in last_json(result.stdout)["error"]


def test_refresh_every_refuses_a_hammering_interval(cli_env):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["refresh", "--query", ALL, "--every", "30s"])
    assert result.exit_code == 2 and "10m" in result.output


@pytest.mark.parametrize("command", ["refresh", "collect"])
def test_403_without_a_token_is_one_line_saying_how_to_set_one(cli_env, hh_server, command):  # type: ignore[no-untyped-def]
    hh_server.script("/vacancies", Reply(403, error_body("forbidden")))
    result = invoke(command, "--query", ALL, "--json")
    assert result.exit_code == 1
    error = last_json(result.stdout)["error"]
    assert "needs an application token" in error and "VACREC_HH_TOKEN=" in error
    assert "\n" not in error


def test_the_token_comes_from_the_environment_and_a_refused_one_is_named(
    cli_env, hh_server, monkeypatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VACREC_HH_TOKEN", "env-token-0042")
    get_settings.cache_clear()
    hh_server.script("/vacancies", Reply(403, error_body("oauth", "bad_authorization")))
    result = invoke("collect", "--query", ALL, "--json")
    assert result.exit_code == 1
    assert "refused the application token" in last_json(result.stdout)["error"]
    assert "env-token-0042" not in result.output
    assert hh_server.seen("/vacancies")[-1].headers["Authorization"] == "Bearer env-token-0042"
