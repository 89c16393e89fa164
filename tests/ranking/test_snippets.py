"""Snippets cut around the seeker's matched words, those words marked, text never markup."""

from __future__ import annotations

import pytest

from vacrec.ranking import snippets
from vacrec.ranking.snippets import Part, marked_snippet, query_stems

BOILERPLATE = "Компания с 1999 года делает много разного для клиентов по всей стране. " * 4


def test_the_window_holds_the_matched_words_and_marks_them() -> None:
    text = BOILERPLATE + "Ищем художника: акварель и гуашь, детские книги.\nАкварелью пишем."
    parts = marked_snippet(text, query_stems("акварель книги"), "FIRST WORDS")
    assert parts[0] == Part("…", False)  # the boilerplate is skipped
    marked = [p.text for p in parts if p.mark]
    assert marked == ["акварель", "книги", "Акварелью"]  # every form of a matched stem
    joined = "".join(p.text for p in parts)
    assert "\n" not in joined and len(joined) <= 200 + 2


def test_no_match_or_no_words_give_the_stored_snippet() -> None:
    assert marked_snippet("Рисуем маслом", query_stems("unity"), "stored") == [
        Part("stored", False)
    ]
    assert marked_snippet("Рисуем маслом", query_stems(""), "stored") == [Part("stored", False)]


def test_markup_in_a_description_stays_text() -> None:
    parts = marked_snippet("<img src=x onerror=alert(1)> акварель", query_stems("акварель"), "")
    assert "".join(p.text for p in parts) == "<img src=x onerror=alert(1)> акварель"
    assert [p for p in parts if p.mark] == [Part("акварель", True)]


def test_remembered_words_give_the_same_snippet_and_the_table_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(snippets, "WORDS_CACHE", 3)
    monkeypatch.setattr(snippets, "_ANALYSED", {})
    text = BOILERPLATE + "Ищем художника: акварель и гуашь."
    first = marked_snippet(text, query_stems("акварель"), "")
    again = marked_snippet(text, query_stems("гуашь художник"), "")
    assert [p.text for p in first if p.mark] == ["акварель"]
    assert [p.text for p in again if p.mark] == ["художника", "гуашь"]
    for n in range(10):
        marked_snippet(f"{n} акварель {'x' * n}", query_stems("акварель"), "")
        assert len(snippets._ANALYSED) <= 3
    assert marked_snippet(text, query_stems("акварель"), "") == first
