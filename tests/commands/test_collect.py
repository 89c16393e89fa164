"""`vacrec collect` end to end: JSON summary, token secrecy, --ingest, kill -9 and resume."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.collect.conftest import UNRESOLVABLE_URL
from tests.collect.hh_server import Reply, error_body, numbered_vacancies
from vacrec.cli import app
from vacrec.config import get_settings

ALL = "откликов"  # every fixture vacancy says «Ждём ваших откликов»
USER_AGENT = "vacrec-cli-tests/1.0 (cli-tests@example.org)"
TOKEN = "hh-secret-token-4f9a"


@pytest.fixture
def cli_env(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for the command, through the environment as a user would give them."""
    env = {
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_DATABASE_URL": sqlite_url,
        "VACREC_HH_USER_AGENT": USER_AGENT,
        "VACREC_HH_RATE_PER_S": "1000",
        "VACREC_HH_TIMEOUT_S": "2",
        "VACREC_HH_MAX_ATTEMPTS": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def invoke(*args: str):
    return CliRunner().invoke(app, ["collect", *args], catch_exceptions=False)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_collect_json_summary(hh_server, cli_env, tmp_path):
    out = tmp_path / "fresh.jsonl"
    hh_server.missing.add("91000007")
    result = invoke(
        "--query", ALL, "--api-url", hh_server.url, "--out", str(out), "--per-page", "5", "--json"
    )
    assert result.exit_code == 0, result.output
    summary = last_json(result.stdout)
    assert summary["pages"] == 3 and summary["found"] == 12
    assert summary["written"] == 11 and summary["failures"] == {"not_found": 1}
    assert len(out.read_text(encoding="utf-8").splitlines()) == 11
    assert hh_server.seen("/vacancies")[0].headers["HH-User-Agent"] == USER_AGENT


def test_token_is_sent_as_bearer_and_never_shown(hh_server, cli_env, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MY_HH_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    ok = invoke(
        "--query", ALL, "--api-url", hh_server.url, "--out", str(tmp_path / "a.jsonl"),
        "--token-env", "MY_HH_TOKEN", "--json",
    )  # fmt: skip
    hh_server.script("/vacancies", Reply(403, error_body("oauth", "bad_authorization")))
    refused = invoke(
        "--query", ALL, "--api-url", hh_server.url, "--out", str(tmp_path / "b.jsonl"),
        "--token-env", "MY_HH_TOKEN", "--json",
    )  # fmt: skip
    assert ok.exit_code == 0 and last_json(ok.stdout)["written"] == 12
    assert refused.exit_code == 1
    error = last_json(refused.stdout)
    assert error["cause"] == "forbidden" and error["status"] == 403
    assert "HTTP 403 Forbidden: oauth:bad_authorization" in error["error"]
    assert {r.headers.get("Authorization") for r in hh_server.requests} == {f"Bearer {TOKEN}"}
    shown = ok.stdout + ok.stderr + refused.stdout + refused.stderr + caplog.text
    assert TOKEN not in shown
    assert caplog.records  # httpx did log its requests, without the token


def test_unreachable_server_names_url_and_cause_and_leaves_no_file(
    cli_env, closed_port_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("VACREC_HH_MAX_ATTEMPTS", "5")  # a 503 would get five
    get_settings.cache_clear()
    out = tmp_path / "fresh.jsonl"
    result = invoke(
        "--query", "художник", "--api-url", closed_port_url, "--out", str(out), "--json"
    )
    assert result.exit_code == 1
    error = last_json(result.stdout)
    url = f"{closed_port_url}/vacancies?text=художник&per_page=100&page=0"
    assert error == {
        "error": f"search failed: GET {url}: connection refused by "
        f"{closed_port_url.removeprefix('http://')} (gave up after 2 attempts)",
        "cause": "connection_refused",
        "url": url,
        "status": None,
        "attempts": 2,
    }
    assert "connection refused" in result.stderr and url in result.stderr
    assert not out.exists()


def test_unresolvable_host_is_named_at_once(cli_env, tmp_path):
    out = tmp_path / "fresh.jsonl"
    result = invoke("--query", "x", "--api-url", UNRESOLVABLE_URL, "--out", str(out), "--json")
    assert result.exit_code == 1
    error = last_json(result.stdout)
    assert "host name 'nonexistent.invalid' not resolved" in error["error"]
    assert error["url"].startswith(f"{UNRESOLVABLE_URL}/vacancies?")
    assert error["attempts"] == 1
    assert not out.exists()


def test_server_error_reports_status_and_body_after_retries(hh_server, cli_env, tmp_path):
    hh_server.script("/vacancies", *[Reply(503, error_body("service_unavailable"))] * 2)
    out = tmp_path / "fresh.jsonl"
    result = invoke("--query", ALL, "--api-url", hh_server.url, "--out", str(out))
    assert result.exit_code == 1
    assert "HTTP 503 Service Unavailable: service_unavailable" in result.stderr
    assert "(gave up after 2 attempts)" in result.stderr  # VACREC_HH_MAX_ATTEMPTS
    assert len(hh_server.seen("/vacancies")) == 2
    assert not out.exists()


def test_bad_api_url_is_a_usage_error(cli_env, tmp_path):
    result = invoke("--query", "x", "--api-url", "api.hh.ru", "--out", str(tmp_path / "f.jsonl"))
    assert result.exit_code == 2
    assert "'api.hh.ru'" in result.stderr and "http:// or https://" in result.stderr


def test_missing_token_variable_is_a_clear_error(hh_server, cli_env, monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    result = invoke("--query", ALL, "--api-url", hh_server.url, "--token-env", "NO_SUCH_TOKEN_VAR")
    assert result.exit_code == 2
    assert "NO_SUCH_TOKEN_VAR" in result.stderr
    assert hh_server.requests == []


def test_out_and_ingest_are_exclusive(hh_server, cli_env, tmp_path):
    result = invoke("--query", ALL, "--api-url", hh_server.url, "--out", "x.jsonl", "--ingest")
    assert result.exit_code == 2
    assert hh_server.requests == []


def test_ingest_loads_the_collected_vacancies(hh_server, cli_env, sqlite_url):
    from sqlalchemy import select

    from vacrec.store.catalog import catalog_industries
    from vacrec.store.db import make_engine
    from vacrec.store.tables import vacancies

    result = invoke("--query", ALL, "--api-url", hh_server.url, "--ingest", "--json")
    assert result.exit_code == 0, result.output
    summary = last_json(result.stdout)
    saved = Path(summary["out"])
    assert saved.parent == Path(cli_env["VACREC_HOME"]) / "collect"
    assert summary["ingest"]["inserted"] == 12
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(vacancies))}
            groups = catalog_industries(conn)
    finally:
        engine.dispose()
    assert rows["91000006"].industry_inferred is False
    assert list(rows["91000006"].industries) == ["Продажи"]
    assert rows["91000009"].industry_inferred is True  # «Безопасность»: left to the classifier
    assert {"Продажи", "Наука, образование", "Искусство, развлечения, масс-медиа"} <= set(groups)

    again = invoke("--query", ALL, "--api-url", hh_server.url, "--ingest", "--json")
    summary = last_json(again.stdout)
    assert summary["skipped_existing"] == 12 and summary["written"] == 0
    assert summary["ingest"]["inserted"] == 0 and summary["ingest"]["unchanged"] == 12


def test_killed_collection_resumes_without_loss_or_refetch(make_server, tmp_path):
    data = numbered_vacancies(20)
    server = make_server(data)
    server.detail_delay_s = 0.1
    out = tmp_path / "killed.jsonl"
    env = {
        **os.environ,
        "VACREC_HOME": str(tmp_path / "home"),
        "VACREC_HH_RATE_PER_S": "1000",
        "VACREC_HH_USER_AGENT": USER_AGENT,
    }
    command = [
        sys.executable, "-m", "vacrec.cli", "collect", "--query", ALL, "--api-url", server.url,
        "--out", str(out), "--per-page", "5", "--concurrency", "1", "--batch-size", "1", "--json",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 5:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    before = [json.loads(line)["id"] for line in raw.splitlines()]  # whole JSON lines only
    assert 5 <= len(before) < 20

    server.detail_delay_s = 0.0
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    summary = last_json(rerun.stdout)
    assert summary["skipped_existing"] == len(before)
    assert summary["written"] == 20 - len(before)

    final = [json.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert sorted(final) == sorted(v["id"] for v in data)  # every vacancy exactly once
    counts = server.detail_counts()
    assert all(counts[i] == 1 for i in before)  # what was written is never fetched again
    assert sum(counts.values()) <= 20 + 1  # at most the one request in flight at the kill
