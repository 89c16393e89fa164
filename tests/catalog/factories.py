"""Small catalog files written by the tests themselves, in each supported format."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook

XLSX_HEADER = [
    "index", "vacancyId", "name", "company", "compensation", "publicationTime", "area",
    "links", "description", "logo", "industry",
]  # fmt: skip


def normalised(i: int, industries: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid vacancy in the normalised schema."""
    row: dict[str, Any] = {
        "id": f"t-{i}",
        "name": f"Художник-иллюстратор {i}",
        "description": f"Рисуем иллюстрации к книгам, проект номер {i}. Акварель и гуашь.",
        "industries": ["Искусство, развлечения, масс-медиа"] if industries is None else industries,
        "company": "Студия Тест",
        "salary": 90000 + i,
        "url": f"https://example.org/v/{i}",
        "logo": None,
        "area": "Москва",
        "published_at": "2026-10-01T10:00:00+03:00",
    }
    row.update(overrides)
    return row


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
        + "\n",
        encoding="utf-8",
    )
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                 for k, v in row.items()}
            )  # fmt: skip
    return path


def original_row(i: int, industries: list[str] | None) -> list[Any]:
    """One row in the original service's spreadsheet layout (Python-literal cells)."""
    return [
        i,
        70_000_000 + i,
        f"Художник по костюмам {i}",
        repr({"@trusted": True, "id": 1, "name": "Театр Тест", "visibleName": "Театр Тест"}),
        55000.0 + i,
        repr({"@timestamp": 1679919204, "$": "2023-03-27T15:13:24.640+03:00"}),
        repr({"@id": 1, "name": "Москва", "path": ".113.1."}),
        repr({"desktop": f"https://hh.ru/vacancy/{70_000_000 + i}", "mobile": "x"}),
        f"Эскизы костюмов для спектакля номер {i}, работа с тканями и цехом.",
        "",
        repr(industries) if industries is not None else None,
    ]


def write_xlsx(path: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or XLSX_HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path
