"""The snapshot built from records: cards and the action list, without a store."""

from __future__ import annotations

from tests.ranking.ranking_fixtures import ART, IT
from vacrec.ranking.snapshot import SNIPPET_CHARS, CatalogSnapshot, snippet


def test_snippet_is_cut_at_a_word_boundary():
    long = "Художник " + "иллюстрирует книги " * 30
    short = snippet(long)

    assert len(short) <= SNIPPET_CHARS + 1
    assert short.endswith("…")
    assert long.startswith(short[:-1])
    assert long[len(short) - 1] == " "  # the cut fell between words
    assert snippet("  Коротко\n и ясно ") == "Коротко и ясно"


def test_snapshot_from_records_defaults_actions_to_sorted_groups(catalog):
    snapshot = CatalogSnapshot.from_records(None, catalog)

    assert snapshot.actions == (IT, ART)
    assert snapshot.index.size(ART) == 4
    assert snapshot.index.size(IT) == 4
