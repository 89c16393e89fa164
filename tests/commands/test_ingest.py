"""`vacrec ingest` as a user runs it: a real process, JSON as the last stdout line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.catalog.factories import normalised, write_jsonl


def _vacrec(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VACREC_HOME": str(home)}
    env.pop("VACREC_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "vacrec.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ingest_prints_its_summary_as_the_last_json_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [normalised(1), normalised(2), "{broken"])
    done = _vacrec(tmp_path / "home", "ingest", str(path), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["read"] == 3
    assert summary["inserted"] == 2
    assert summary["rejected"] == 1
    assert summary["rejections"][0]["row"] == 3
    assert {"updated", "skipped_duplicates", "industries"} <= set(summary)
    assert (tmp_path / "home" / "vacrec.db").exists()


def test_ingest_refuses_a_junk_file_with_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(os.urandom(2048))
    done = _vacrec(tmp_path / "home", "ingest", str(junk), "--json")
    assert done.returncode == 2
    assert "not an .xlsx workbook" in json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert "Traceback" not in done.stderr
