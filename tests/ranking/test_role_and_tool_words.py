"""Role words and tool names on a tiny catalog: a role word alone («учитель», "artist") never
carries a card over ones matching the subject, and a tool's name is one word ("Substance
Painter" is no painter)."""

from __future__ import annotations

from vacrec.catalog.schema import CatalogRecord
from vacrec.catalog.terms import is_generic, query_terms
from vacrec.ranking.snapshot import CatalogSnapshot


def _posting(i: int, name: str, description: str, industry: str) -> CatalogRecord:
    return CatalogRecord(
        id=f"v{i}", name=name, description=description, industries=(industry,),
        company=f"Компания {i}", area="Москва", schedule="fullDay",
    )  # fmt: skip


# «рисования» is in many descriptions (a low idf), «учитель» in few: cosine alone puts the
# short titles sharing only «учитель» first.
TEACHERS = [
    _posting(1, "Учитель математики", "Школа", "Образование"),
    _posting(2, "Учитель информатики (Python)", "Школа программирования", "Образование"),
    _posting(3, "Педагог изостудии", "Рисование, живопись и рисования с детьми", "Образование"),
    _posting(4, "Художник в студию", "Занятия рисования для взрослых, акварель", "Образование"),
    *(
        _posting(10 + i, f"Дизайнер {i}", "Навыки рисования приветствуются", "Дизайн")
        for i in range(8)
    ),
]


def _order(snapshot: CatalogSnapshot, text: str, industry: str) -> list[str]:
    return [vid for vid, score in snapshot.match(text).top_k(industry, 4).items if score > 0]


def test_a_role_word_alone_never_outranks_a_subject_match() -> None:
    snapshot = CatalogSnapshot.from_records(1, TEACHERS)
    for text in ("учитель рисования", "ищу работу учителем рисования", "drawing teacher"):
        ranked = _order(snapshot, text, "Образование")
        subject = [vid for vid in ranked if vid in {"v3", "v4"}]
        role_only = [vid for vid in ranked if vid in {"v1", "v2"}]
        assert subject, text
        assert all(ranked.index(s) < ranked.index(r) for s in subject for r in role_only), text


def test_a_role_word_alone_still_matches() -> None:
    """With no subject beside it, the role word is the request: it keeps its whole weight."""
    snapshot = CatalogSnapshot.from_records(1, TEACHERS)
    assert set(_order(snapshot, "учитель", "Образование")) == {"v1", "v2"}


def test_role_words_are_generic_and_crafts_are_not() -> None:
    def generic(word: str) -> bool:
        return all(is_generic(term) for term in query_terms(word))

    assert all(map(generic, ("преподаватель", "учителем", "художник", "artist", "junior")))
    assert not any(map(generic, ("рисования", "иллюстратор", "скульптор", "texture", "мастер")))


def test_tool_names_are_one_word_and_map_to_their_craft() -> None:
    assert query_terms("Substance Painter") == query_terms("substance 3D painter")
    terms = query_terms("texture artist, Substance Painter")
    assert "painter" not in terms and "живописец" not in terms and "текстур" in terms
    assert "моушн" in query_terms("After Effects") and "effect" not in query_terms("After Effects")
    assert query_terms("Unreal Engine") == ["unrealengin"]


def test_a_tool_name_meets_its_postings_and_not_painters() -> None:
    snapshot = CatalogSnapshot.from_records(
        1,
        [
            _posting(1, "Художник-живописец", "Живопись маслом, портреты", "Искусство"),
            _posting(2, "Художник по текстурам", "Substance 3D Painter, ZBrush", "Игры"),
            _posting(3, "Моушн-дизайнер", "Adobe After Effects, ролики", "Реклама"),
            _posting(4, "Звукорежиссёр", "Sound effects, after hours", "Реклама"),
        ],
    )
    match = snapshot.match("Substance Painter")
    assert [vid for vid, s in match.top_k("Искусство", 1).items if s > 0] == []
    assert match.top_k("Игры", 1).items[0][1] > 0
    ranked = snapshot.match("After Effects").top_k("Реклама", 2).items
    assert ranked[0][0] == "v3" and ranked[1][1] == 0.0


# Two titles hold both typed words; the one saying nothing else has the longer description,
# which alone puts it below the other on cosine and on the title's share of the words.
TWO_D = [
    _posting(
        1,
        "2D-художник",
        "Рисуем игры. " + " ".join(f"задача{i} навык{i}" for i in range(20)),
        "Игры",
    ),
    _posting(2, "2D художник-аниматор мультфильмов для рекламы", "Мультфильмы", "Игры"),
    *(_posting(10 + i, f"Менеджер {i}", "Продажи", "Игры") for i in range(6)),
]


def test_a_title_saying_only_the_typed_words_ranks_first() -> None:
    """Among titles holding every typed word, the one holding nothing else comes first
    (``TITLE_PRECISION``): typed «2D-художник», the posting titled so, not the animator."""
    snapshot = CatalogSnapshot.from_records(1, TWO_D)
    assert _order(snapshot, "2D-художник", "Игры")[:2] == ["v1", "v2"]
