"""The ``--json`` line as a user's process prints it: Cyrillic as itself, always valid JSON."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

QUERY = "художник"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _collect_json(tmp_path: Path, encoding: str) -> subprocess.CompletedProcess[bytes]:
    """`vacrec collect --json` against a dead server: an error whose JSON holds the query."""
    env = {**os.environ, "VACREC_HOME": str(tmp_path / "home"), "PYTHONIOENCODING": encoding}
    command = [
        sys.executable, "-m", "vacrec.cli", "collect", "--query", QUERY,
        "--api-url", f"http://127.0.0.1:{_closed_port()}", "--out", str(tmp_path / "f.jsonl"),
        "--json",
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, timeout=120)


def test_json_line_prints_cyrillic_unescaped(tmp_path: Path) -> None:
    done = _collect_json(tmp_path, "utf-8")
    line = done.stdout.decode("utf-8").strip().splitlines()[-1]
    assert f"text={QUERY}" in line and "\\u04" not in line
    assert f"text={QUERY}" in json.loads(line)["url"]
    assert done.returncode == 1


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_cannot_show_cyrillic_still_gets_valid_json(
    tmp_path: Path, encoding: str
) -> None:
    done = _collect_json(tmp_path, encoding)
    assert b"Traceback" not in done.stderr
    line = done.stdout.decode("ascii").strip().splitlines()[-1]
    assert "\\u0445" in line  # escaped, and the same JSON
    assert f"text={QUERY}" in json.loads(line)["url"]
    assert done.returncode == 1


def test_print_json_prints_null_for_nan_and_infinity(capsys: pytest.CaptureFixture[str]) -> None:
    """`vacrec train --json` once printed a bare NaN (SNIPS of a policy that never chose a
    logged action); strict parsers (jq, browsers) refuse the whole line."""
    from tests.test_finite import NAN, strict_loads
    from vacrec.commands._output import print_json

    report = {
        "version": 3,
        "final_loss": NAN,
        "ope": {"candidate": {"snips": {"value": NAN, "low": NAN, "high": float("-inf")}}},
        "skill": "акварель",
    }
    print_json(report)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "NaN" not in line and "Infinity" not in line
    assert strict_loads(line) == {
        "version": 3,
        "final_loss": None,
        "ope": {"candidate": {"snips": {"value": None, "low": None, "high": None}}},
        "skill": "акварель",
    }
