"""Mapping hh.ru API vacancy objects (search items and full objects) to the normalised form."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from vacrec.catalog.hh_api import html_to_text, is_hh_vacancy, monthly_salary, vacancy_from_hh
from vacrec.catalog.schema import CATALOG_FIELDS, Vacancy
from vacrec.collect.roles import CATALOG_GROUPS, CATEGORY_TO_GROUP, annotate, role_categories

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hh"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def details() -> dict[str, dict]:
    return {v["id"]: v for v in fixture("vacancies.json")}


@pytest.fixture
def items() -> dict[str, dict]:
    pages = [fixture("search_page_0.json"), fixture("search_page_1.json")]
    return {i["id"]: i for page in pages for i in page["items"]}


def test_recognises_api_objects_and_not_the_normalised_form(details, items):
    assert is_hh_vacancy(details["91000001"])
    assert is_hh_vacancy(items["91000001"])
    normalised = vacancy_from_hh(details["91000001"])
    assert not is_hh_vacancy(normalised)
    assert not is_hh_vacancy({"id": "1", "name": "Художник", "description": "Рисовать"})
    assert not is_hh_vacancy({"name": "без id", "employer": {}})
    assert not is_hh_vacancy(["not", "a", "dict"])


def test_full_object_maps_every_field(details):
    row = vacancy_from_hh(details["91000001"])
    # the normalised fields, plus whether hh.ru reports the posting archived (ingest retires it)
    assert list(row) == [*CATALOG_FIELDS, "archived"] and row["archived"] is False
    assert row["id"] == "91000001"
    assert row["name"] == "Художник-иллюстратор детских книг"
    assert row["company"] == "ООО «Пиксельный Лес»"
    assert row["url"] == "https://hh.ru/vacancy/91000001"
    assert row["logo"] == "https://img.hhcdn.ru/employer-logo/4410001240.png"
    assert row["area"] == "Москва"
    assert row["published_at"] == "2025-03-10T10:20:00+03:00"
    assert row["salary"] == 100000  # RUR net, midpoint of 80 000 and 120 000
    assert row["industries"] == []  # no extension key: ingest infers
    assert (row["schedule"], row["experience"]) == ("fullDay", "between1And3")
    vacancy = Vacancy.model_validate(row)
    assert vacancy.published_at is not None and vacancy.published_at.utcoffset() is not None


def test_description_is_plain_text_with_key_skills(details):
    text = vacancy_from_hh(details["91000001"])["description"]
    assert "<" not in text and "&quot;" not in text and "&mdash;" not in text
    assert "Создание иллюстраций для детских книг и обложек" in text.splitlines()
    assert 'Ждём ваших откликов — "творите с нами"!' in text
    assert text.endswith("Ключевые навыки: Adobe Photoshop, Иллюстрация, Акварель.")


def test_search_item_uses_the_snippet_without_highlighting(items):
    row = vacancy_from_hh(items["91000008"])
    assert "highlighttext" not in row["description"]
    assert "Работа с подрядчиками и художниками по креативам." in row["description"]
    assert "Знание Яндекс Метрики." in row["description"]
    Vacancy.model_validate(row)


def test_search_item_without_snippet_falls_back_to_the_name(items):
    item = copy.deepcopy(items["91000001"])
    item["snippet"] = {"requirement": None, "responsibility": None}
    assert vacancy_from_hh(item)["description"] == item["name"]


@pytest.mark.parametrize(
    ("salary", "expected"),
    [
        ({"from": 80000, "to": 120000, "currency": "RUR", "gross": False}, 100000),
        ({"from": 150000, "to": None, "currency": "RUR", "gross": True}, 130500),
        ({"from": None, "to": 250000, "currency": "RUR", "gross": None}, 250000),
        ({"from": 3000, "to": 4000, "currency": "USD", "gross": False}, None),
        ({"from": None, "to": None, "currency": "RUR", "gross": False}, None),
        ({"from": 0, "to": 0, "currency": "RUR"}, None),
        (None, None),
        ("100000", None),
    ],
)
def test_monthly_salary_rule(salary, expected):
    assert monthly_salary(salary) == expected


def test_logo_falls_back_from_240_to_90_to_nothing(details):
    assert vacancy_from_hh(details["91000006"])["logo"].endswith("441000590.png")  # no "240"
    assert vacancy_from_hh(details["91000012"])["logo"] is None  # logo_urls: null


def test_industries_come_from_the_extension_key(details):
    categories = role_categories(fixture("professional_roles.json"))
    saved = annotate(details["91000002"], categories)
    row = vacancy_from_hh(saved)
    assert row["industries"] == [
        "Искусство, развлечения, масс-медиа",
        "Информационные технологии, интернет, телеком",
    ]
    assert is_hh_vacancy(saved)
    assert Vacancy.model_validate(row).industries == tuple(row["industries"])


@pytest.mark.parametrize(
    ("change", "message"),
    [({"id": None}, "id"), ({"name": "  "}, "name"), ({"id": {"x": 1}}, "id")],
)
def test_unusable_objects_raise_value_error(details, change, message):
    broken = {**details["91000001"], **change}
    with pytest.raises(ValueError, match=message):
        vacancy_from_hh(broken)


def test_missing_name_raises_key_error(details):
    broken = {k: v for k, v in details["91000001"].items() if k != "name"}
    with pytest.raises(KeyError):
        vacancy_from_hh(broken)


def test_unparseable_publication_date_is_dropped_not_fatal(details):
    row = vacancy_from_hh({**details["91000001"], "published_at": "вчера"})
    assert row["published_at"] is None


def test_html_to_text_keeps_paragraphs_and_list_items():
    text = html_to_text("<p>Первый&nbsp;абзац</p><ul><li>один</li><li>два</li></ul>текст<br/>ещё")
    assert text.splitlines() == ["Первый абзац", "один", "два", "текст", "ещё"]


def test_every_mapped_category_targets_a_catalog_group():
    assert len(CATALOG_GROUPS) == 23
    assert set(CATEGORY_TO_GROUP.values()) <= set(CATALOG_GROUPS)


def test_remote_work_format_marks_the_schedule_remote(details):
    """hh.ru retires ``schedule``; its newer ``work_format`` list says remote instead."""
    obj = copy.deepcopy(details["91000001"])
    obj["work_format"] = [{"id": "REMOTE", "name": "Удалённо"}]
    assert vacancy_from_hh(obj)["schedule"] == "remote"
    del obj["schedule"], obj["work_format"], obj["experience"]
    row = vacancy_from_hh(obj)
    assert (row["schedule"], row["experience"]) == (None, None)
