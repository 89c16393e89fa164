"""hh.ru API vacancy objects → the normalised vacancy (fields of :class:`Vacancy`).

Pure functions, no I/O: the catalog readers call them for ``.json``/``.jsonl``
files and the collector's output is in this format. Both shapes the API
returns are accepted: the short items of ``GET /vacancies`` (text only in
``snippet``) and the full objects of ``GET /vacancies/{id}`` (HTML
``description``). Field names follow the ``hhru/api`` documentation.

Salary rule (the 2023 catalog's ``compensation`` is a monthly net figure in
roubles): only ``currency == "RUR"`` counts; the midpoint of ``from``/``to``
when both are given, else whichever is given; a ``gross`` figure is turned
into net by taking off НДФЛ (13 %); rounded to whole roubles. Anything else
(another currency, no figures) gives ``None``.

Industries come from the collector's extension key
``obj["vacrec"]["industries"]`` (role category → catalog group, see
:mod:`vacrec.collect.roles`); without it the list is empty and ingest infers
a group from the text.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

EXTENSION_KEY = "vacrec"
"""Key under which the collector records how a vacancy's industries were mapped."""

NDFL_RATE = 0.13
"""Personal income tax taken off a gross salary to get the net monthly figure."""

SALARY_CURRENCY = "RUR"
LOGO_SIZES = ("240", "90", "original")
_API_ONLY_KEYS = frozenset(
    {"alternate_url", "apply_alternate_url", "employer", "snippet", "professional_roles"}
)
_BLOCK_END = re.compile(r"</(p|li|ul|ol|h[1-6]|div)\s*>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def is_hh_vacancy(obj: Any) -> bool:
    """True for an hh.ru API vacancy object, False for our normalised form.

    The normalised form has flat ``company``/``area`` strings and a top-level
    ``industries`` list; the API's has ``employer``, ``alternate_url``,
    ``snippet`` or ``professional_roles``, and nested ``area``/``salary`` objects.
    """
    if not isinstance(obj, dict) or "name" not in obj or "id" not in obj:
        return False
    if "industries" in obj:
        return False
    if EXTENSION_KEY in obj or _API_ONLY_KEYS & obj.keys():
        return True
    return isinstance(obj.get("area"), dict) or isinstance(obj.get("salary"), dict)


def vacancy_from_hh(obj: dict[str, Any]) -> dict[str, Any]:
    """The normalised vacancy fields of one API object (raises KeyError/ValueError if unusable)."""
    vacancy_id = obj["id"]
    if vacancy_id is None or isinstance(vacancy_id, bool | dict | list):
        raise ValueError("id: expected a string or an integer")
    name = obj["name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name: expected a non-empty string")
    employer = _dict(obj.get("employer"))
    return {
        "id": str(vacancy_id),
        "name": name.strip(),
        "description": _description(obj) or name.strip(),
        "industries": _industries(obj),
        "company": _text(employer.get("name")),
        "salary": monthly_salary(obj.get("salary")),
        "url": _text(obj.get("alternate_url")),
        "logo": _logo(employer.get("logo_urls")),
        "area": _text(_dict(obj.get("area")).get("name")),
        "published_at": _published(obj.get("published_at")),
        "archived": obj.get("archived") is True,
    }


def monthly_salary(salary: Any) -> int | None:
    """Monthly net roubles from an API ``salary`` object, by the rule in the module docstring."""
    if not isinstance(salary, dict) or salary.get("currency") != SALARY_CURRENCY:
        return None
    bounds = [
        float(v)
        for v in (salary.get("from"), salary.get("to"))
        if isinstance(v, int | float) and not isinstance(v, bool) and v > 0
    ]
    if not bounds:
        return None
    value = sum(bounds) / len(bounds)
    if salary.get("gross") is True:
        value *= 1.0 - NDFL_RATE
    return round(value)


def html_to_text(markup: str) -> str:
    """Plain text of an API HTML fragment, one line per paragraph or list item."""
    text = _BLOCK_END.sub("\n", markup)
    text = html.unescape(_TAG.sub(" ", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def _description(obj: dict[str, Any]) -> str:
    """Full description (HTML stripped, key skills appended), else the search snippet."""
    full = obj.get("description")
    if isinstance(full, str) and full.strip():
        text = html_to_text(full)
        skills = [
            s["name"].strip()
            for s in obj.get("key_skills") or ()
            if isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"].strip()
        ]
        if skills:
            text = f"{text}\nКлючевые навыки: {', '.join(skills)}."
        return text
    snippet = _dict(obj.get("snippet"))
    parts = [
        html_to_text(part)
        for part in (snippet.get("requirement"), snippet.get("responsibility"))
        if isinstance(part, str) and part.strip()
    ]
    return "\n".join(p for p in parts if p)


def _industries(obj: dict[str, Any]) -> list[str]:
    groups = _dict(obj.get(EXTENSION_KEY)).get("industries")
    if not isinstance(groups, list):
        return []
    return [g for g in groups if isinstance(g, str) and g.strip()]


def _logo(urls: Any) -> str | None:
    urls = _dict(urls)
    return next((urls[size] for size in LOGO_SIZES if _text(urls.get(size))), None)


def _published(value: Any) -> str | None:
    """ISO 8601 with a colon in the offset; the API writes ``+0300``. Unparseable → None."""
    if not isinstance(value, str) or not value.strip():
        return None
    for parse in (
        lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%S%z"),
        datetime.fromisoformat,
    ):
        try:
            return parse(value.strip()).isoformat()
        except ValueError:
            continue
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
