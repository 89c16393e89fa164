"""Ranking: one TF-IDF space over a catalog version (rows grouped by industry), its cards as
columns, and the snapshot that holds both; built once per version, never mutated."""

from vacrec.ranking.index import Ranked, TfidfIndex
from vacrec.ranking.snapshot import Card, CatalogRecord, CatalogSnapshot

__all__ = [
    "Card",
    "CatalogRecord",
    "CatalogSnapshot",
    "Ranked",
    "TfidfIndex",
]
