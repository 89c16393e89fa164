"""Industry inference: fit on labelled texts, predict a group with its confidence."""

from __future__ import annotations

import pytest

from vacrec.catalog.industry import IndustryClassifier, held_out_accuracy

ART = "Искусство, развлечения, масс-медиа"
IT = "Информационные технологии, интернет, телеком"
EDU = "Наука, образование"

TEXTS = {
    ART: ["художник декоратор театра эскизы", "живопись маслом выставка галерея",
          "театральный художник по костюмам", "реставрация картин в музее"],
    IT: ["разработка игр unity программист", "дизайнер интерфейсов мобильного приложения figma",
         "3d моделирование для игровой студии", "верстка сайтов и веб дизайн"],
    EDU: ["преподаватель рисования в школе", "педагог изостудии для детей",
          "учитель черчения и рисования", "методист детского творчества занятия"],
}  # fmt: skip


def _data() -> tuple[list[str], list[list[str]]]:
    texts = [t for group in TEXTS.values() for t in group]
    labels = [[group] for group, items in TEXTS.items() for _ in items]
    return texts, labels


def test_predicts_the_group_whose_vocabulary_matches() -> None:
    texts, labels = _data()
    classifier = IndustryClassifier().fit(texts, labels)
    guesses = classifier.predict(["преподаватель рисования для детей", "программист unity игр"])
    assert [g.industry for g in guesses] == [EDU, IT]
    assert all(0.0 < g.confidence <= 1.0 for g in guesses)


# Two texts cannot make SGD converge; the classes it learns are what is tested here.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multi_group_vacancies_count_as_examples_of_each_group() -> None:
    classifier = IndustryClassifier().fit(
        ["игровой художник", "детский педагог"], [[IT, ART], [EDU]]
    )
    assert set(classifier.model_.classes_) == {IT, ART, EDU}


def test_one_group_cannot_be_learned() -> None:
    with pytest.raises(ValueError, match="two labelled groups"):
        IndustryClassifier().fit(["a b", "c d"], [[ART], [ART]])


def test_held_out_accuracy_is_a_share_and_needs_enough_rows() -> None:
    texts, labels = _data()
    accuracy = held_out_accuracy(texts, labels)
    assert accuracy is not None and 0.0 <= accuracy <= 1.0
    assert held_out_accuracy(texts[:3], labels[:3]) is None
