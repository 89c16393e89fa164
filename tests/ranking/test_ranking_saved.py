"""Saved snapshots: built once per catalog version, loaded memory-mapped, never trusted blindly."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from tests.ranking.ranking_fixtures import ART, IT, record, write_catalog
from vacrec.app.snapshots import default_cache_folder, load_snapshot
from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.store.db import make_engine, migrate

QUERIES = ("рисую акварелью", "Blender игры", "Python FastAPI", "мобильные приложения", "")


def saved_folder(engine: Engine) -> Path:
    folder = default_cache_folder(engine)
    assert folder is not None
    (only,) = [p for p in folder.iterdir() if p.is_dir()]
    return only


def assert_same_ranking(a: CatalogSnapshot, b: CatalogSnapshot) -> None:
    assert a.actions == b.actions
    for text in QUERIES:
        np.testing.assert_array_equal(a.match_features(text), b.match_features(text))
        for industry in a.actions:
            assert a.top_k(industry, text, 5) == b.top_k(industry, text, 5)


def _file_mapped(array: np.ndarray) -> bool:
    """True when the array's memory is a mapping of a file (somewhere down its bases)."""
    base = array
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return True
        base = getattr(base, "base", None)
    return False


def test_saved_snapshot_round_trips_memory_mapped(sqlite_engine: Engine, catalog):
    version = write_catalog(sqlite_engine, catalog)

    first = load_snapshot(sqlite_engine)
    folder = saved_folder(sqlite_engine)
    written = (folder / "manifest.json").stat().st_mtime_ns
    second = load_snapshot(sqlite_engine)

    assert (folder / "manifest.json").stat().st_mtime_ns == written  # loaded, not rebuilt
    arrays = {**second.index.arrays(), **second.cards.arrays()}
    mapped = ("vacancy", "description_data", "posting_vectors", "term_vectors")
    assert all(_file_mapped(arrays[a]) for a in mapped)
    assert not isinstance(arrays["vacancy"], np.memmap)  # plain arrays: C-speed slicing
    assert second.version == version
    in_memory = CatalogSnapshot.from_records(version, catalog, actions=second.actions)
    assert_same_ranking(second, in_memory)
    assert_same_ranking(second, first)
    assert dict(second.cards) == dict(in_memory.cards)
    assert second.cards["a1"].description == catalog[0].description


@pytest.mark.parametrize("damage", ["flip", "truncate", "manifest"])
def test_a_damaged_snapshot_is_rebuilt(
    sqlite_engine: Engine, catalog, damage: str, caplog: pytest.LogCaptureFixture
):
    version = write_catalog(sqlite_engine, catalog)
    load_snapshot(sqlite_engine)  # dropped at once: damage in place would reach its mapping
    folder = saved_folder(sqlite_engine)
    target = folder / "index.matrix_data.npy"
    intact = target.read_bytes()
    if damage == "flip":  # one weight changed: still a valid .npy, wrong numbers
        target.write_bytes(intact[:-4] + bytes(b ^ 0xFF for b in intact[-4:]))
    elif damage == "truncate":
        target.write_bytes(intact[: len(intact) // 2])
    else:
        (folder / "manifest.json").write_text("{not json")

    rebuilt = load_snapshot(sqlite_engine)

    assert "rebuilding" in caplog.text
    assert target.read_bytes() == intact
    in_memory = CatalogSnapshot.from_records(version, catalog, actions=rebuilt.actions)
    assert_same_ranking(rebuilt, in_memory)


def test_a_snapshot_of_another_database_is_not_used(tmp_path: Path, catalog):
    """Two stores at catalog version 1 share one cache folder; each serves its own catalog."""
    shared = tmp_path / "shared-cache"
    engines = []
    for name, records in (("a", catalog), ("b", [record("z1", "Скульптор по мрамору", [ART], 1)])):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        migrate(engine)
        write_catalog(engine, records)
        engines.append(engine)
    try:
        a = load_snapshot(engines[0], shared)
        b = load_snapshot(engines[1], shared)
        assert a.version == b.version == 1
        assert set(b.cards) == {"z1"} and "a1" in a.cards
        assert [i for i, _ in b.top_k(ART, "мрамор", 1).items] == ["z1"]
    finally:
        for engine in engines:
            engine.dispose()


_LOADER = textwrap.dedent(
    """
    import json, logging, sys, time
    from pathlib import Path
    from vacrec.app.snapshots import load_snapshot
    from vacrec.store.db import make_engine

    url, go = sys.argv[1], Path(sys.argv[2])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    Path(sys.argv[4]).touch()  # imported: waiting for the go
    while not go.exists():
        time.sleep(0.005)
    snapshot = load_snapshot(make_engine(url))
    print(json.dumps([i for i, _ in snapshot.top_k(sys.argv[3], "скульптор мрамор", 3).items]))
    """
)


def test_two_processes_starting_at_once_build_once(tmp_path: Path, sqlite_url: str):
    engine = make_engine(sqlite_url)
    migrate(engine)
    records: list[CatalogRecord] = [
        record(f"s{i}", f"Скульптор по мрамору и граниту, мастерская {i} " * 40, [ART, IT], i)
        for i in range(3000)  # a build of about a second: both processes meet at the lock
    ]
    write_catalog(engine, records)
    engine.dispose()
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(2)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _LOADER, sqlite_url, str(go), ART, str(flag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 120
    try:
        while not all(flag.exists() for flag in ready):  # both imported and polling
            ended = [p.communicate() for p in processes if p.poll() is not None]
            assert not ended, ended  # a loader failed before the go
            assert time.monotonic() < deadline, "the loaders did not start"
            time.sleep(0.02)
    finally:
        go.touch()  # even on failure: no loader is left waiting
    outputs = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    assert sum(err.count("built and saved") for _, err in outputs) == 1
    served = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert served[0] == served[1] and len(served[0]) == 3


def test_saving_removes_text_columns_a_dead_build_left_behind(tmp_path: Path, catalog):
    from vacrec.ranking.cards import SPILL_PREFIX
    from vacrec.ranking.saved import STALE_SPILL_S, SavedSnapshots

    saved = SavedSnapshots(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    dead = tmp_path / f"{SPILL_PREFIX}dead.bin"
    live = tmp_path / f"{SPILL_PREFIX}live.bin"
    for spill in (dead, live):
        spill.write_bytes(b"x" * 1024)
    long_ago = time.time() - STALE_SPILL_S - 60
    os.utime(dead, (long_ago, long_ago))

    snapshot = CatalogSnapshot.from_records(1, catalog)
    saved.save("v1", {}, snapshot.index, snapshot.cards)

    assert not dead.exists()
    assert live.exists()  # a build still writing (or mapping) it
    assert saved.load("v1", {}) is not None
