"""`vacrec ingest` as a user runs it: a real process, JSON as the last stdout line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.catalog.factories import normalised, write_jsonl


def _vacrec(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VACREC_HOME": str(home)}
    env.pop("VACREC_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "vacrec.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a bound for a hung command, not a speed check (CI shares two cores)
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


def test_a_file_refused_after_batches_were_written_leaves_no_version(tmp_path: Path) -> None:
    """Bad UTF-8 on the last line is found only after earlier rows went in: they roll back."""
    good = write_jsonl(tmp_path / "good.jsonl", [normalised(i) for i in range(1, 4)])
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(good.read_bytes() + b'{"id": "x", "name": "\xff"}\n')
    home = tmp_path / "home"

    refused = _vacrec(home, "ingest", str(bad), "--json")
    assert refused.returncode == 2
    assert "UTF-8" in json.loads(refused.stdout.strip().splitlines()[-1])["error"]

    done = _vacrec(home, "ingest", str(good), "--json")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["inserted"], summary["catalog_version"]) == (3, 1)


@pytest.mark.slow
def test_bench_ingest_synthetic_reports_time_and_peak_memory(
    tmp_path: Path, shared_xlsx: Path
) -> None:
    done = _vacrec(
        tmp_path / "home", "bench", "ingest", "--synthetic", "1500", "--catalog",
        str(shared_xlsx), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    (size,) = figures["sizes"]
    assert figures["cpu_count"] >= 1
    assert size["vacancies"] == 1500 and size["counts"]["inserted"] == 1500
    assert size["counts"]["skipped_duplicates"] == 0 and size["counts"]["inferred"] > 0
    assert size["seconds"] > 0 and size["peak_rss_mb"] > 50


def test_ingest_saves_the_serving_snapshot_so_servers_only_load_it(tmp_path: Path) -> None:
    """The snapshot of the new version is on disk when ingest returns; loading it builds
    nothing (the manifest is not rewritten)."""
    from vacrec.app.snapshots import default_cache_folder, load_snapshot
    from vacrec.store.catalog import current_catalog_version
    from vacrec.store.db import make_engine

    path = write_jsonl(tmp_path / "c.jsonl", [normalised(i) for i in range(1, 6)])
    home = tmp_path / "home"
    done = _vacrec(home, "ingest", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["snapshot_seconds"] >= 0

    engine = make_engine(f"sqlite:///{home / 'vacrec.db'}")
    try:
        with engine.connect() as conn:
            version = current_catalog_version(conn)
        manifests = list(default_cache_folder(engine).glob("*/manifest.json"))
        assert len(manifests) == 1
        assert json.loads(manifests[0].read_text())["identity"]["version"] == version
        written = manifests[0].stat().st_mtime_ns
        snapshot = load_snapshot(engine)
        assert snapshot.version == version and len(snapshot.cards) == 5
        assert manifests[0].stat().st_mtime_ns == written  # loaded, not built again
    finally:
        engine.dispose()


def test_a_snapshot_that_cannot_be_saved_does_not_undo_or_hide_the_ingest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "snapshots").write_text("a file where the snapshot folder should be")
    path = write_jsonl(tmp_path / "c.jsonl", [normalised(1), normalised(2)])

    done = _vacrec(home, "ingest", str(path), "--json")

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["inserted"] == 2 and summary["snapshot_seconds"] is None
    assert "serving snapshot was not saved" in done.stderr
    assert "Traceback" not in done.stderr
