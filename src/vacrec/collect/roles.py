"""Map a fresh vacancy's professional roles onto the catalog's industry groups.

The 2023 catalog's action groups are hh.ru's former *professional areas*
(«Информационные технологии, интернет, телеком», «Продажи», ...). Today's API
gives each vacancy ``professional_roles``, and ``GET /professional_roles``
groups those roles into categories whose names are close to — but not always
the same as — the old areas. Where the names agree (the table below, plus any
category whose name *is* a catalog group) a vacancy gets that group and
``industry_source = "role_category"``; otherwise its industries stay empty
(``"unmapped"``) and ingest's text classifier infers a group. Categories
without a counterpart («Безопасность», «Розничная торговля», «Страхование»,
«Стратегия, инвестиции, консалтинг», ...) are left to the classifier on
purpose: a guessed table would teach the agent wrong actions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from vacrec.catalog.hh_api import EXTENSION_KEY

SOURCE_ROLE_CATEGORY = "role_category"
SOURCE_UNMAPPED = "unmapped"

CATALOG_GROUPS: tuple[str, ...] = (
    "Административный персонал",
    "Банки, инвестиции, лизинг",
    "Бухгалтерия, управленческий учет, финансы предприятия",
    "Высший менеджмент",
    "Домашний персонал",
    "Закупки",
    "Инсталляция и сервис",
    "Информационные технологии, интернет, телеком",
    "Искусство, развлечения, масс-медиа",
    "Консультирование",
    "Маркетинг, реклама, PR",
    "Медицина, фармацевтика",
    "Наука, образование",
    "Начало карьеры, студенты",
    "Продажи",
    "Производство, сельское хозяйство",
    "Рабочий персонал",
    "Спортивные клубы, фитнес, салоны красоты",
    "Строительство, недвижимость",
    "Транспорт, логистика",
    "Туризм, гостиницы, рестораны",
    "Управление персоналом, тренинги",
    "Юристы",
)
"""The 23 former professional areas of the 2023 catalog (``catalog_industries`` after ingest)."""

CATEGORY_TO_GROUP: dict[str, str] = {
    # names that differ only in wording
    "Информационные технологии": "Информационные технологии, интернет, телеком",
    "Искусство, развлечения, массмедиа": "Искусство, развлечения, масс-медиа",
    "Продажи, обслуживание клиентов": "Продажи",
    "Транспорт, логистика, перевозки": "Транспорт, логистика",
    "Финансы, бухгалтерия": "Бухгалтерия, управленческий учет, финансы предприятия",
    "Высший и средний менеджмент": "Высший менеджмент",
    "Домашний, обслуживающий персонал": "Домашний персонал",
    "Производство, сервисное обслуживание": "Производство, сельское хозяйство",
    "Сельское хозяйство": "Производство, сельское хозяйство",
    # the same name in both catalogs
    "Административный персонал": "Административный персонал",
    "Закупки": "Закупки",
    "Маркетинг, реклама, PR": "Маркетинг, реклама, PR",
    "Медицина, фармацевтика": "Медицина, фармацевтика",
    "Наука, образование": "Наука, образование",
    "Рабочий персонал": "Рабочий персонал",
    "Спортивные клубы, фитнес, салоны красоты": "Спортивные клубы, фитнес, салоны красоты",
    "Строительство, недвижимость": "Строительство, недвижимость",
    "Туризм, гостиницы, рестораны": "Туризм, гостиницы, рестораны",
    "Управление персоналом, тренинги": "Управление персоналом, тренинги",
    "Юристы": "Юристы",
}
"""``/professional_roles`` category name → catalog group, for the names that agree."""


def role_categories(dictionary: Any) -> dict[str, tuple[str, ...]]:
    """Role id → names of the categories listing it, from ``GET /professional_roles``.

    A role may sit in several categories (then the vacancy gets each agreeing
    group). A malformed document gives an empty mapping — every vacancy then
    goes to the classifier — rather than failing the whole collection.
    """
    mapping: dict[str, tuple[str, ...]] = {}
    categories = dictionary.get("categories") if isinstance(dictionary, dict) else None
    for category in categories if isinstance(categories, list) else ():
        if not isinstance(category, dict) or not isinstance(category.get("name"), str):
            continue
        for role in category.get("roles") or ():
            if isinstance(role, dict) and role.get("id") is not None:
                key = str(role["id"])
                if category["name"] not in mapping.get(key, ()):
                    mapping[key] = (*mapping.get(key, ()), category["name"])
    return mapping


def group_for_category(category: str, groups: Collection[str] = CATALOG_GROUPS) -> str | None:
    """The catalog group a role category agrees with, or None."""
    if category in CATEGORY_TO_GROUP:
        return CATEGORY_TO_GROUP[category]
    return category if category in groups else None


def map_industries(
    vacancy: Mapping[str, Any],
    categories: Mapping[str, tuple[str, ...]],
    groups: Collection[str] = CATALOG_GROUPS,
) -> tuple[list[str], str]:
    """Catalog groups of a vacancy's roles (in role order) and how they were found."""
    found: list[str] = []
    roles = vacancy.get("professional_roles")
    for role in roles if isinstance(roles, list) else ():
        if not isinstance(role, dict) or role.get("id") is None:
            continue
        for category in categories.get(str(role["id"]), ()):
            group = group_for_category(category, groups)
            if group and group not in found:
                found.append(group)
    return found, SOURCE_ROLE_CATEGORY if found else SOURCE_UNMAPPED


def annotate(
    vacancy: dict[str, Any],
    categories: Mapping[str, tuple[str, ...]],
    groups: Collection[str] = CATALOG_GROUPS,
) -> dict[str, Any]:
    """The API object with the extension key ``vacrec`` recording its mapped industries."""
    industries, source = map_industries(vacancy, categories, groups)
    return {**vacancy, EXTENSION_KEY: {"industries": industries, "industry_source": source}}
