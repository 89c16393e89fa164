"""The quick-start targets: `make run` takes the host and port an operator asks for."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(PROJECT_ROOT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_on_the_default_or_the_given_address() -> None:
    default = _dry_run("run").strip().splitlines()[-1]
    chosen = _dry_run("run", "HOST=0.0.0.0", "PORT=8080").strip().splitlines()[-1]

    assert default.endswith("vacrec serve --host 127.0.0.1 --port 8000")
    assert chosen.endswith("vacrec serve --host 0.0.0.0 --port 8080")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_runs_every_test_in_parallel_and_test_quick_leaves_out_only_the_slow() -> None:
    full = [line for line in _dry_run("test").splitlines() if "bin/pytest" in line]
    quick = [line for line in _dry_run("test-quick").splitlines() if "bin/pytest" in line]

    assert len(full) == 1 and " -n " in full[0] and " -m " not in full[0] and " -k " not in full[0]
    assert quick == [full[0] + ' -m "not slow"']
