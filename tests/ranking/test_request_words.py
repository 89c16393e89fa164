"""What a seeker's words weigh on a tiny catalog: filler and the place said count nothing in
the match, so neither moves a card nor the industry prior's features."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.place import choose, topic
from vacrec.ranking.snapshot import CatalogSnapshot


def _posting(i: int, name: str, description: str, industry: str, area: str) -> CatalogRecord:
    return CatalogRecord(
        id=f"v{i}", name=name, description=description, industries=(industry,),
        company=f"Компания {i}", area=area, schedule="fullDay",
    )  # fmt: skip


CATALOG = [
    _posting(1, "Работа для студентов", "Хочу работать? Ищем студентов, любая занятость",
             "IT", "Москва"),
    _posting(2, "Автор курса (студенческая работа)", "Работа для студента, можно удалённо",
             "IT", "Москва"),
    _posting(3, "Иллюстратор", "Иллюстрации для детских книг", "Издательства", "Казань"),
    _posting(4, "Менеджер проектов", "Офис в Москве, Москва-Сити", "Маркетинг", "Москва"),
    _posting(5, "Художник по акварели", "Акварель, пейзажи", "Искусство", "Томск"),
    _posting(6, "Акварелист", "Акварель, Москва, Москва, Москва", "Искусство", "Москва"),
]  # fmt: skip


def _touched(snapshot: CatalogSnapshot, text: str) -> set[str]:
    match = snapshot.match(text)
    out: set[str] = set()
    for industry in snapshot.index.industries:
        ranked = match.top_k(industry, 10)
        out |= {vid for vid, score in ranked.items if score > 0}
    return out


def test_filler_words_match_nothing_and_leave_the_industry_features_alone() -> None:
    snapshot = CatalogSnapshot.from_records(1, CATALOG)
    text = "студент, хочу любую работу иллюстратором"
    assert _touched(snapshot, text) == {"v3"}  # not the students' job ads in IT
    same = snapshot.features_of(snapshot.match("иллюстратором"))
    assert np.array_equal(snapshot.features_of(snapshot.match(text)), same)
    assert snapshot.match("хочу любую работу, студент").empty


def test_a_city_said_is_not_a_topic_of_the_match() -> None:
    """«акварель в Москве»: a Moscow project manager is no watercolour match, and the
    industries' features are those of «акварель» alone (the place rules weigh Moscow)."""
    snapshot = CatalogSnapshot.from_records(1, CATALOG)
    text = "акварель в Москве"
    wanted = snapshot.places.understand(text)
    assert wanted.area == "Москва"
    assert "v4" in _touched(snapshot, text)  # what the whole text would touch
    about = topic(text, wanted)
    assert _touched(snapshot, about) == {"v5", "v6"}
    alone = snapshot.features_of(snapshot.match("акварель"))
    assert np.array_equal(snapshot.features_of(snapshot.match(about)), alone)
    chosen = choose(snapshot.match(about), snapshot.cards, "Искусство", 2, wanted, 2).items
    assert [(c.id, c.place_match) for c in chosen] == [("v6", True), ("v5", False)]


def test_text_without_a_place_is_matched_as_typed() -> None:
    snapshot = CatalogSnapshot.from_records(1, CATALOG)
    text = "иллюстрации для детских книг"
    assert topic(text, snapshot.places.understand(text)) == text


def test_a_posting_holding_every_word_outranks_a_short_one_holding_one() -> None:
    """«преподаватель рисования»: a one-word title «Преподаватель» (of maths) has the higher
    cosine, as cosine favours short postings; the drawing school's posting, long but holding
    both words, ranks first once coverage counts (``COORDINATION``)."""
    drawing = (
        "Ведём занятия рисованием и живописью для детей и взрослых, акварель, гуашь, масло,"
        " графика, скетчинг, выставки учеников, дружная команда, гибкий график, мастер-классы,"
        " пленэры, композиция, рисунок, натюрморт, портрет, пейзаж"
    )
    records = [
        _posting(1, "Преподаватель", "математика", "Образование", "Томск"),
        _posting(2, "Преподаватель в школу рисования", drawing, "Образование", "Томск"),
        _posting(3, "Рисование", "рисование", "Искусство", "Томск"),
        _posting(4, "Бухгалтер", "учёт", "Искусство", "Томск"),
    ]
    snapshot = CatalogSnapshot.from_records(1, records)
    match = snapshot.match("преподаватель рисования")
    ranked = match.top_k("Образование", 2).items
    assert [vid for vid, _ in ranked] == ["v2", "v1"]
    covered = match.coverage(snapshot.cards.numbers_of(["v1", "v2"]))
    assert covered[0] < 0.7 < covered[1] == pytest.approx(1.0)


def test_an_english_request_reaches_the_industry_of_the_russian_craft() -> None:
    """The catalog names its crafts in Russian: "jewelry, engraving" shares no word with its
    jewellers' postings but the glossary's, and the content prior then serves their industry,
    not the larger one of English-speaking designers."""
    from vacrec.agent.context import ContextEncoder
    from vacrec.agent.policy import CONTENT_PRIOR, greedy

    snapshot = CatalogSnapshot.from_records(
        1,
        [
            _posting(
                1, "Дизайнер ювелирных украшений", "Эскизы колец и серег", "Ювелирка", "Москва"
            ),
            _posting(2, "Ювелир-гравер", "Ремонт украшений", "Ювелирка", "Москва"),
            _posting(3, "UI designer", "Interfaces for mobile apps, Figma", "IT", "Москва"),
            _posting(4, "Product designer", "Web and mobile design", "IT", "Москва"),
            _posting(5, "Graphic designer", "Banners, web design", "IT", "Москва"),
        ],
    )
    encoder = ContextEncoder(snapshot, {"ювелир": "ювелир"})
    text = "jewelry, engraving"
    match = snapshot.match(text)
    contexts = encoder.encode_one(
        30, "ювелир", text, snapshot.features_of(match), snapshot.expected_cosines_of(match),
        snapshot.place_miss(snapshot.places.understand(text)),
    )  # fmt: skip
    assert snapshot.actions[int(greedy(CONTENT_PRIOR, contexts)[0])] == "Ювелирка"
    assert match.top_k("Ювелирка", 1).items[0][0] == "v2"  # its title holds both
