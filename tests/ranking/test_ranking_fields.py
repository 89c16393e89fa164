"""Field weights of the index: a title word outranks an address word or a description word."""

from __future__ import annotations

from datetime import UTC, datetime

from vacrec.ranking.index import IndexDocument, TfidfIndex

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
