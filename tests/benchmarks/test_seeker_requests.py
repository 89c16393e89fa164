"""The packaged labelled set of seekers' own words, and its judging rules."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pytest

from vacrec.benchmarks.seeker_requests import judge, load, parse
from vacrec.domain import PACKAGED_SKILLS


@dataclass(frozen=True)
class Posting:
    id: str
    name: str


def test_the_set_loads_with_both_languages_halves_and_every_skill() -> None:
    requests = load()
    assert len(requests) >= 60
    assert len({r.id for r in requests}) == len(requests)
    cells = Counter((r.split, r.lang) for r in requests)
    assert all(cells[(split, lang)] >= 10 for split in ("tune", "test") for lang in ("ru", "en"))
    assert {r.skill for r in requests} == set(PACKAGED_SKILLS)
    assert all(14 <= r.age <= 100 for r in requests)


def test_rules_judge_titles_not_addresses_and_not_senior_roles() -> None:
    by_id = {r.id: r for r in load()}
    catalog = [
        Posting("1", "Художник-иллюстратор"),
        Posting("2", "Продавец-кассир (Санкт-Петербург, Художников, 15)"),
        Posting("3", "Senior 2D Artist"),
        Posting("4", "Помощник художника (подсобный работник)"),
        Posting("5", "Мастер по перманентному макияжу"),
        Posting("6", "Менеджер по продажам (кухни/системы хранения)"),
    ]
    any_artist = next(r for r in by_id.values() if r.text.startswith("любая работа художником"))
    tattoo = next(r for r in by_id.values() if r.text.startswith("тату-мастер"))
    book = next(r for r in by_id.values() if r.text.startswith("хочу рисовать иллюстрации"))
    judged = judge([any_artist, tattoo, book], catalog)
    assert judged[any_artist.id] == {"1", "4"}  # no street name, no senior role
    assert judged[tattoo.id] == {"5"}
    assert judged[book.id] == {"1"}


def test_a_bad_split_is_refused() -> None:
    row = {"id": "x", "text": "t", "lang": "ru", "age": 20, "skill": "s", "split": "dev"}
    with pytest.raises(ValueError, match="split"):
        parse([json.dumps(row | {"title": "a"})])
