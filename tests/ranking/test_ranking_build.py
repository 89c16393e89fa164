"""Building a snapshot from a stream: the same arrays as from a list, nothing held per record."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from tests.ranking.ranking_fixtures import ART, IT, record, small_catalog, write_catalog
from vacrec.app.snapshots import load_snapshot
from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.cards import CardTable, ColumnBuilder
from vacrec.ranking.saved import SavedSnapshots
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.store.catalog import read_catalog_records


def with_repeats() -> list[CatalogRecord]:
    """The small catalog plus postings repeating its texts (shared once by the index)."""
    catalog = small_catalog()
    copies = [
        record(f"{r.id}-copy", r.description, r.industries, 7, name=r.name) for r in catalog[:3]
    ]
    return [*catalog, *copies, record("x1", "Новый текст без отрасли", [], None)]


def assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_snapshot_built_from_the_store_equals_one_built_from_a_list(engine: Engine, tmp_path: Path):
    version = write_catalog(engine, with_repeats())
    _, actions, records = read_catalog_records(engine)

    streamed = load_snapshot(engine, tmp_path / "snapshots")
    listed = CatalogSnapshot.from_records(version, records, actions=actions)

    assert streamed.actions == listed.actions == (IT, ART)
    assert_same_arrays(streamed.index.arrays(), listed.index.arrays())
    assert_same_arrays(streamed.cards.arrays(), listed.cards.arrays())
    assert (streamed.index.matrix != listed.index.matrix).nnz == 0


def test_build_consumes_records_one_at_a_time_and_keeps_none():
    alive: weakref.WeakSet[CatalogRecord] = weakref.WeakSet()
    most_alive = 0

    def stream() -> Iterator[CatalogRecord]:
        nonlocal most_alive
        for i in range(2_000):
            r = record(f"v{i}", f"Художник-оформитель номер {i % 50}", [ART], i % 30)
            alive.add(r)
            most_alive = max(most_alive, len(alive))
            yield r
            del r

    snapshot = CatalogSnapshot.from_records(1, stream())

    assert len(snapshot.cards) == 2_000 and snapshot.index.size(ART) == 2_000
    assert most_alive <= 2  # the record being added, and the one just dropped
    assert len(alive) == 0


def test_text_columns_spilled_to_files_save_the_same_files(tmp_path: Path):
    kept, spilled = ColumnBuilder(), ColumnBuilder(spill_bytes=64)
    for r in with_repeats():
        for builder in (kept, spilled):
            builder.add_record(r)
    in_memory, on_disk = CardTable(kept.arrays()), CardTable(spilled.arrays())
    index = CatalogSnapshot.from_records(1, with_repeats()).index

    assert isinstance(on_disk.arrays()["description_data"], np.memmap)
    assert dict(in_memory) == dict(on_disk)
    manifests = []
    for name, cards in (("kept", in_memory), ("spilled", on_disk)):
        saved = SavedSnapshots(tmp_path / name)
        target = saved.save("v1", {}, index, cards)
        manifests.append((target / "manifest.json").read_text())
        loaded = saved.load("v1", {})
        assert loaded is not None and dict(loaded[2]) == dict(in_memory)
    assert manifests[0] == manifests[1]  # byte for byte the same files (same checksums)


def test_spilled_columns_live_in_the_given_folder_until_the_cards_go(tmp_path: Path):
    builder = ColumnBuilder(spill_bytes=64, folder=tmp_path)
    for r in with_repeats():
        builder.add_record(r)
    cards = CardTable(builder.arrays())
    del builder

    assert list(tmp_path.iterdir())  # the description column, at least
    assert cards["a1"].description == small_catalog()[0].description
    del cards
    gc.collect()
    assert not list(tmp_path.iterdir())
