"""Snapshots loaded from a real store, and the holder that swaps them."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import Engine, text

from tests.ranking.ranking_fixtures import ART, IT, record, write_catalog
from vacrec.app.snapshots import SnapshotHolder, load_snapshot
from vacrec.catalog.schema import CatalogRecord
from vacrec.store.catalog import catalog_industries

WAIT_S = 20.0


def wait_for(condition, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_empty_store_gives_an_empty_snapshot(engine: Engine):
    snapshot = load_snapshot(engine)

    assert snapshot.version is None
    assert snapshot.actions == ()
    assert snapshot.cards == {}
    assert snapshot.top_k(ART, "акварель", 5).items == []


def test_snapshot_reads_the_current_catalog(engine: Engine, catalog: list[CatalogRecord]):
    version = write_catalog(engine, catalog)

    snapshot = load_snapshot(engine)

    with engine.connect() as conn:
        assert snapshot.actions == tuple(catalog_industries(conn))
    assert snapshot.version == version
    assert snapshot.actions == (IT, ART)  # sorted: «Информационные…» before «Искусство…»
    assert set(snapshot.cards) == {r.id for r in catalog}
    card = snapshot.cards["a1"]
    assert (card.name, card.company, card.salary, card.url) == (
        "Вакансия a1",
        "Компания a1",
        50_000,
        "https://hh.ru/vacancy/a1",
    )
    assert card.description == catalog[0].description
    assert card.published_at is not None and card.published_at.day == 2
    ranked = snapshot.top_k(ART, "рисую акварелью", 2)
    assert ranked.items[0][0] == "a1"
    assert [i for i, _ in snapshot.top_k(IT, "Blender", 1).items] == ["a2"]
    # Publication times survive the database round trip (SQLite returns them naive).
    assert [i for i, _ in snapshot.top_k(IT, "", 4).items] == ["a2", "i2", "i1", "i3"]


def test_refresh_swaps_only_when_the_version_changes(engine: Engine, catalog):
    write_catalog(engine, catalog[:4])
    holder = SnapshotHolder(engine, poll_s=60)
    first = holder.current

    assert holder.refresh_if_changed() is False
    assert holder.current is first

    write_catalog(engine, [record("a9", "Скульптор по камню и мрамору", [ART], 10)])
    assert holder.refresh_if_changed() is True
    assert holder.current.version == first.version + 1
    assert [i for i, _ in holder.current.top_k(ART, "мрамор", 1).items] == ["a9"]
    assert "a9" not in first.cards  # the old snapshot is untouched


def test_background_thread_swaps_while_current_keeps_serving(engine: Engine, catalog):
    write_catalog(engine, catalog)
    holder = SnapshotHolder(engine, poll_s=0.05)
    old_version = holder.current.version
    holder.start()
    try:
        bulk = [
            record(f"b{i}", f"Скульптор по камню, мастерская номер {i}", [ART], 20 + i)
            for i in range(300)
        ]
        write_catalog(engine, bulk)
        served: list[tuple[int | None, bool, list[str]]] = []

        def answered_by_new_version() -> bool:
            snapshot = holder.current
            ranked = snapshot.top_k(ART, "скульптор", 5)
            served.append((snapshot.version, ranked.fallback, [i for i, _ in ranked.items]))
            return snapshot.version != old_version

        assert wait_for(answered_by_new_version)
    finally:
        holder.stop()

    assert served[-1][0] == old_version + 1
    for version, fallback, items in served:
        if version == old_version:  # nothing about sculpture yet: most recent art first
            assert fallback and items == ["a2", "a3", "a4", "a1"]
        else:
            assert not fallback and len(items) == 5 and all(i.startswith("b") for i in items)


def test_failed_rebuild_keeps_the_old_snapshot(
    sqlite_engine: Engine, catalog, caplog: pytest.LogCaptureFixture
):
    write_catalog(sqlite_engine, catalog)
    holder = SnapshotHolder(sqlite_engine, poll_s=0.05)
    old = holder.current
    write_catalog(sqlite_engine, [record("a9", "Скульптор по камню", [ART], 10)])
    with sqlite_engine.begin() as conn:  # a real failure: the rows cannot be read
        conn.execute(text("ALTER TABLE vacancy_industries RENAME TO vacancy_industries_away"))

    caplog.set_level(logging.ERROR, logger="vacrec.polling")
    holder.start()
    try:
        failed = f"catalog snapshot: poll failed; keeping catalog version {old.version}"
        assert wait_for(lambda: failed in caplog.text)
        assert holder.current is old
        assert [i for i, _ in holder.current.top_k(ART, "акварель", 1).items] == ["a1"]

        with sqlite_engine.begin() as conn:
            conn.execute(text("ALTER TABLE vacancy_industries_away RENAME TO vacancy_industries"))
        assert wait_for(lambda: holder.current.version == old.version + 1)
    finally:
        holder.stop()
    assert "a9" in holder.current.cards
