"""Ranking: a TF-IDF index per industry, built once per catalog version, swapped atomically."""

from vacrec.ranking.index import Ranked, TfidfIndex
from vacrec.ranking.snapshot import (
    Card,
    CatalogRecord,
    CatalogSnapshot,
    SnapshotHolder,
    load_snapshot,
)

__all__ = [
    "Card",
    "CatalogRecord",
    "CatalogSnapshot",
    "Ranked",
    "SnapshotHolder",
    "TfidfIndex",
    "load_snapshot",
]
