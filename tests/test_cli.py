"""The `vacrec` command's shared behaviour: bad settings are one clear line, never a traceback."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vacrec.cli import app
from vacrec.config import get_settings


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VACREC_HOME", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    yield invoke
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("VACREC_EPSILON", "2", "less than or equal to 1"),
        ("VACREC_EXTRA_SKILLS", "граффити", "must be JSON"),
        ("VACREC_FEEDBACK_TTL_S", "soon", "valid integer"),
    ],
)
@pytest.mark.parametrize("command", [["model", "list"], ["serve"], ["train"], ["evaluate"]])
def test_a_bad_setting_is_one_line_naming_it_and_exit_status_2(
    run, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str, command: list[str]
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(variable, value)

    plain = run(*command)
    as_json = run(*command, "--json") if command != ["serve"] else None

    assert plain.exit_code == 2
    assert "Traceback" not in plain.output
    lines = [line for line in plain.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {variable}={value!r}") and says in lines[0]
    if as_json is not None:
        assert as_json.exit_code == 2
        assert json.loads(as_json.stdout.strip().splitlines()[-1]) == {
            "error": lines[0].removeprefix("error: ")
        }


def test_good_settings_run_the_command(run) -> None:  # type: ignore[no-untyped-def]
    listed = run("model", "list", "--json")
    assert listed.exit_code == 0
    assert json.loads(listed.stdout.strip().splitlines()[-1]) == {
        "models": [],
        "live": None,
        "policy": "content prior",
    }
