"""The parts the serving benchmark relies on: replicated catalogs and the original's path."""

from __future__ import annotations

from pathlib import Path

from tests.ranking.ranking_fixtures import ART, IT
from vacrec.benchmarks.original import OriginalPath, Posting, save_network
from vacrec.benchmarks.workload import replicate
from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.snapshot import CatalogSnapshot


def test_replicated_catalog_has_new_ids_and_ranks_copies_alike(catalog: list[CatalogRecord]):
    rows = list(replicate(catalog, 3 * len(catalog)))
    snapshot = CatalogSnapshot.from_records(1, rows)

    assert len({r.id for r in rows}) == 3 * len(catalog)
    assert snapshot.index.size(ART) == 3 * 4
    ranked = snapshot.top_k(ART, "акварель", 4)
    assert [i for i, _ in ranked.items[:3]] == ["a1", "a1~1", "a1~2"]
    assert len({s for _, s in ranked.items[:3]}) == 1 and ranked.items[0][1] > 0.0
    assert ranked.items[3][1] == 0.0


def test_original_path_returns_the_industry_best_match(tmp_path: Path, catalog):
    postings = [Posting(r.id, r.description, r.industries) for r in catalog]
    network = save_network(tmp_path / "q.pt", n_actions=2)
    original = OriginalPath(postings, network, n_actions=2)

    art = original.recommend(ART, "акварель гуашь", age=30, skill=0)
    it = original.recommend(IT, "Figma", age=30, skill=1)

    assert art[0] == "a1" and set(art) == {"a1", "a2", "a3", "a4"}
    assert it[0] == "i2" and "a1" not in it
