"""Index terms: addresses dropped, word roots shared, experience phrases taken out of queries."""

from __future__ import annotations

import pytest

from vacrec.catalog.terms import document_terms, experience_wish, query_terms, strip_addresses


@pytest.mark.parametrize(
    "title",
    [
        "Продавец-кассир (Санкт-Петербург, Художников, 15)",
        "Администратор супермаркета (пр. Художников)",
        "Товаровед (Пр-т Художников)",
        "Кассир, ул. Художников 9А",
    ],
)
def test_an_address_leaves_no_term(title: str) -> None:
    assert "художник" not in document_terms(title)
    assert "Художник" not in strip_addresses(title)


def test_a_title_word_stays() -> None:
    assert "художник" in document_terms("Художник-оформитель (м. Озерки)")


def test_word_forms_of_illustration_meet_through_their_root() -> None:
    request = set(query_terms("хочу рисовать иллюстрации для детских книг"))
    for title in ("Иллюстратор", "Помощник иллюстратора", "Иллюстрация книг"):
        assert request & {t for t in document_terms(title) if t.endswith("~")}


def test_an_english_request_reaches_russian_words() -> None:
    assert "скульптор" in query_terms("sculptor, clay and plaster")
    assert "иллюстратор" in query_terms("children's book illustrator")


@pytest.mark.parametrize(
    ("text", "wish"),
    [
        ("любая работа художником, можно без опыта", "noExperience"),
        ("any artist job, no experience needed", "noExperience"),
        ("студент, ищу подработку", "noExperience"),
        ("junior 3D artist", "noExperience"),
        ("senior 2D artist", "moreThan6"),
        ("ведущий дизайнер", "moreThan6"),
        ("иллюстратор детских книг", None),
    ],
)
def test_experience_wish(text: str, wish: str | None) -> None:
    assert experience_wish(text) == wish


def test_experience_phrases_do_not_become_query_terms() -> None:
    terms = query_terms("любая работа художником, можно без опыта")
    assert not any(t.startswith("опыт") for t in terms)
    assert "experi" not in query_terms("any artist job, no experience needed")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("хочу любую работу иллюстратором", "иллюстратором"),
        ("студент, ищу работу, подойдёт любая", ""),
        ("можно работу художником", "художником"),
        ("looking for any illustrator job, want to work", "illustrator"),
    ],
)
def test_request_filler_words_are_no_query_terms(text: str, topic: str) -> None:
    assert query_terms(text) == query_terms(topic)
