"""Shared by the proofs (fuzz, load, kill -9): how they report their figures.

Each proof prints one JSON line to stdout (seen with ``pytest -s``) and attaches
the same figures to the test report (``record_property``, e.g. in JUnit XML), so
the numbers the README quotes come from a run anyone can repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from vacrec.benchmarks.load import percentile

__all__ = ["RecordProperty", "percentile", "report_figures"]

RecordProperty = Callable[[str, object], None]


def report_figures(record_property: RecordProperty, proof: str, figures: dict[str, Any]) -> None:
    """Print ``{"proof": ..., **figures}`` as one JSON line and record each figure."""
    line = {"proof": proof, **figures}
    print(json.dumps(line, ensure_ascii=False, sort_keys=False))
    for key, value in line.items():
        record_property(key, json.dumps(value, ensure_ascii=False))
