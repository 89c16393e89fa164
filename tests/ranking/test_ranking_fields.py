"""Field weights of the index: a title word outranks an address word or a description word."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.ranking.ranking_fixtures import record
from vacrec.app.serving import RecommendedItem
from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.index import MATCH_THRESHOLD, IndexDocument, TfidfIndex
from vacrec.ranking.snapshot import CatalogSnapshot

GROUP = "Искусство"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _doc(vid: str, name: str, description: str) -> IndexDocument:
    return IndexDocument(vid, description, (GROUP,), WHEN, name)


def test_an_address_word_never_outranks_a_title_word() -> None:
    index = TfidfIndex.build(
        [
            _doc("cashier", "Продавец-кассир (пр. Художников, 15)", "Касса, выкладка товара."),
            _doc("shop", "Администратор магазина", "Адрес: пр. Художников, 32. Смены 2/2."),
            _doc("artist", "Художник-оформитель", "Оформление витрин и стендов."),
        ]
    )
    ranked = index.top_k(GROUP, "любая работа художником", 3)
    assert ranked.items[0][0] == "artist"
    scores = dict(ranked.items)
    assert scores["cashier"] == 0.0 and scores["shop"] == 0.0


def test_a_title_word_outranks_the_same_word_in_a_description() -> None:
    index = TfidfIndex.build(
        [
            _doc("editor", "Редактор", "Работаем с иллюстраторами и авторами."),
            _doc("illustrator", "Иллюстратор", "Рисунки для издательства."),
        ]
    )
    ranked = index.top_k(GROUP, "иллюстрации", 2)
    assert [vid for vid, _ in ranked.items] == ["illustrator", "editor"]


def test_a_title_saying_the_subject_outranks_a_description_repeating_it() -> None:
    """A title counts ``TITLE_WEIGHT`` times, yet sublinear tf gives a word said three times in
    a description nearly as much, and a description saying every word typed covers more: the
    title's coverage of the words decides (TITLE_COVERAGE). A title holding only a role word
    beside a subject is not lifted by it (test_role_and_tool_words)."""
    index = TfidfIndex.build(
        [
            _doc("decorator", "Художник-декоратор", "Керамика и лепка: лепка, керамика, лепка."),
            _doc("ceramist", "Керамист", "Мастерская, обжиг и глазурь."),
        ]
    )
    ranked = index.top_k(GROUP, "керамика, лепка", 2)
    assert [vid for vid, _ in ranked.items] == ["ceramist", "decorator"]
    # The industries' features read the same order: the best posting's is the ceramist's.
    match = index.match("керамика, лепка")
    assert match.features()[0, 0] == max(score for _, score in ranked.items)


def test_a_card_names_the_words_it_shares_and_a_weak_one_is_no_match() -> None:
    records = [
        _record("illustrator", "Иллюстратор детских книг", "Рисуем книги для издательства."),
        _record("sales", "Менеджер по продажам", "Продажи. " * 30 + "Иногда работа с книгами."),
    ]
    snapshot = CatalogSnapshot.from_records(1, records)
    text = "хочу рисовать иллюстрации для детских книг"
    ranked = dict(snapshot.top_k(GROUP, text, 2).items)
    assert snapshot.shared_words(text, "illustrator") == ("иллюстрации", "детских", "книг")
    assert snapshot.shared_words(text, "sales") == ("книг",)
    assert ranked["illustrator"] >= MATCH_THRESHOLD > ranked["sales"] > 0.0
    weak = RecommendedItem(snapshot.cards["sales"], ranked["sales"], words=("книг",))
    assert not weak.matched


def _record(vid: str, name: str, description: str) -> CatalogRecord:
    return record(vid, description, [GROUP], 1, name=name)
