"""`vacrec bench train`'s options are checked before any work starts."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands.test_ingest import _vacrec


def test_an_unknown_population_is_refused_naming_the_option(tmp_path: Path) -> None:
    done = _vacrec(tmp_path / "home", "bench", "train", "--taste", "nope", "--json")
    assert done.returncode == 2
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert "--taste" in error and "independent" in error and "contradicting" in error


def test_a_budget_below_the_minimum_is_refused(tmp_path: Path) -> None:
    done = _vacrec(tmp_path / "home", "bench", "train", "--budget", "10", "--json")
    assert done.returncode == 2
    assert "--budget" in done.stderr
