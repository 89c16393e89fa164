"""Training report files for the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vacrec.evaluation.report import write_training_report


def test_report_writes_png_json_and_markdown(tmp_path: Path):
    report = {
        "version": 3,
        "transitions": 100,
        "updates": 500,
        "stopping": "derived",
        "final_loss": 0.12,
        "seconds": 1.5,
        "samples_per_second": 12345.0,
        "promoted": True,
        "promotion_reason": "no live model",
        "ope": {"candidate": {"snips": {"value": 0.5, "low": 0.4, "high": 0.6, "n": 100}}},
    }
    paths = write_training_report(tmp_path / "reports", report, np.linspace(1, 0.1, 200), 500)
    assert Path(paths["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["version"] == 3
    md = Path(paths["markdown"]).read_text(encoding="utf-8")
    assert "| candidate | snips | 0.500 | [0.400, 0.600] |" in md
    assert (tmp_path / "reports" / "latest.png").is_file()


def test_a_report_holding_nan_writes_valid_json(tmp_path: Path):
    from tests.test_finite import strict_loads

    report = {
        "version": 4,
        "transitions": 10,
        "updates": 20,
        "stopping": "derived",
        "final_loss": float("nan"),
        "seconds": 0.5,
        "samples_per_second": float("inf"),
        "promoted": False,
        "promotion_reason": "x",
        "ope": {"candidate": {"snips": {"value": float("nan"), "low": 0.1, "high": 0.2}}},
    }
    curve = np.array([1.0, np.nan, 0.5])
    paths = write_training_report(tmp_path / "reports", report, curve, 20)
    written = strict_loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert isinstance(written, dict)
    assert written["final_loss"] is None and written["samples_per_second"] is None
    assert written["ope"]["candidate"]["snips"]["value"] is None
