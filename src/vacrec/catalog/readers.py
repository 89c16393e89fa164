"""Catalog readers: turn a file into validated vacancies plus per-row rejections.

The format is chosen by extension and confirmed by content, so a mislabelled
or binary file is refused as a whole (:class:`CatalogFileError`) before
anything is written. Within a good file, each bad row is rejected with its
row/line number and reason and the good rows go on.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vacrec.catalog.hh_api import is_hh_vacancy, vacancy_from_hh
from vacrec.catalog.schema import CATALOG_FIELDS, Vacancy

XLSX_REQUIRED_COLUMNS = frozenset({"name", "description", "industry"})
XLSX_ID_COLUMNS = ("vacancyId", "id")
_ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES = 4096


class CatalogFileError(ValueError):
    """A file that is not a vacancy catalog at all; nothing from it is used."""


@dataclass(frozen=True)
class Rejection:
    """One row that could not become a vacancy, and why."""

    source: str
    row: int
    reason: str


@dataclass
class ReadResult:
    """Valid vacancies in file order and the rows that were rejected."""

    vacancies: list[Vacancy] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Rows read, good and bad."""
        return len(self.vacancies) + len(self.rejections)


def read_catalog(path: Path) -> ReadResult:
    """Read one catalog file, choosing the reader by extension and content."""
    if not path.is_file():
        raise CatalogFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    head = path.open("rb").read(_SNIFF_BYTES)
    if not head.strip():
        raise CatalogFileError(f"{path}: the file is empty")
    if suffix == ".xlsx":
        if not head.startswith(_ZIP_MAGIC):
            raise CatalogFileError(f"{path}: not an .xlsx workbook (no zip signature)")
        return _collect(path, _xlsx_rows(path))
    if suffix in {".json", ".jsonl", ".csv"}:
        text = _read_text(path)
        if suffix == ".csv":
            return _collect(path, _csv_rows(path, text))
        return _collect(path, _json_rows(path, text))
    raise CatalogFileError(
        f"{path}: unsupported extension {suffix!r}; use .xlsx, .json, .jsonl or .csv"
    )


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise CatalogFileError(f"{path}: binary content, not a text catalog")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise CatalogFileError(f"{path}: {reason}") from exc


def _collect(path: Path, rows: Iterable[tuple[int, dict[str, Any] | Exception]]) -> ReadResult:
    result = ReadResult()
    for number, row in rows:
        if isinstance(row, Exception):
            result.rejections.append(Rejection(path.name, number, str(row)))
            continue
        try:
            result.vacancies.append(Vacancy.model_validate(row))
        except ValidationError as exc:
            result.rejections.append(Rejection(path.name, number, _explain(exc)))
    return result


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "row"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


# --- JSON / JSONL: hh.ru API objects or the normalised schema -----------------------------


def _json_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
    stripped = text.lstrip()
    if path.suffix.lower() == ".jsonl" or not stripped.startswith(("[", "{")):
        yield from _jsonl_rows(path, text)
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        # A .json file may still hold one object per line.
        yield from _jsonl_rows(path, text)
        return
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        document = document["items"]  # a saved page of hh.ru search results
    elif isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise CatalogFileError(f"{path}: expected a JSON array of vacancy objects")
    _require_catalog_objects(path, document)
    for number, obj in enumerate(document, start=1):
        yield number, _to_normalised(obj)


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
    parsed: list[tuple[int, Any]] = []
    # JSON Lines are separated by "\n" only: str.splitlines() would also cut at U+2028 and
    # U+2029, which real hh.ru descriptions contain and JSON allows raw inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            parsed.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            parsed.append((number, ValueError(f"invalid JSON: {exc.msg}")))
    good = [obj for _, obj in parsed if not isinstance(obj, Exception)]
    if not good:
        raise CatalogFileError(f"{path}: no line is a JSON vacancy object")
    _require_catalog_objects(path, good)
    for number, obj in parsed:
        yield number, obj if isinstance(obj, Exception) else _to_normalised(obj)


def _require_catalog_objects(path: Path, objects: list[Any]) -> None:
    """Refuse a file none of whose objects looks like a vacancy."""
    if not any(isinstance(o, dict) and ("name" in o or "description" in o) for o in objects):
        raise CatalogFileError(
            f"{path}: no object has the fields of a vacancy (name, description, ...)"
        )


def _to_normalised(obj: Any) -> dict[str, Any] | Exception:
    if not isinstance(obj, dict):
        return ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if is_hh_vacancy(obj):
        try:
            return vacancy_from_hh(obj)
        except (KeyError, TypeError, ValueError) as exc:
            return ValueError(f"not a valid hh.ru vacancy object: {exc}")
    return obj


# --- CSV of the normalised schema ----------------------------------------------------------


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = {"id", "name", "description"} - columns
    if missing:
        raise CatalogFileError(
            f"{path}: not a catalog CSV; missing columns {sorted(missing)} "
            f"(expected {', '.join(CATALOG_FIELDS)})"
        )
    for number, row in enumerate(reader, start=2):  # line 1 is the header
        yield number, _csv_row(row)


def _csv_row(row: dict[str, str | None]) -> dict[str, Any] | Exception:
    """A CSV row in the normalised schema; ``industries`` is a JSON array of group names."""
    data: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items() if k}
    raw = data.get("industries")
    if raw:
        try:
            data["industries"] = json.loads(raw)
        except json.JSONDecodeError:
            return ValueError("industries: expected a JSON array of group names")
    return data


# --- The original service's spreadsheet ----------------------------------------------------


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
    from openpyxl import load_workbook  # only this reader needs it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip
        raise CatalogFileError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(rows, ())]
        missing = XLSX_REQUIRED_COLUMNS - set(header)
        id_column = next((c for c in XLSX_ID_COLUMNS if c in header), None)
        if missing or id_column is None:
            needed = sorted(missing | ({"vacancyId"} if id_column is None else set()))
            raise CatalogFileError(
                f"{path}: not in the original service's layout; missing columns {needed}"
            )
        index = {name: i for i, name in enumerate(header) if name}
        for number, values in enumerate(rows, start=2):  # row 1 is the header
            if values is None or all(v is None for v in values):
                continue
            cells = {name: values[i] if i < len(values) else None for name, i in index.items()}
            try:
                yield number, _xlsx_vacancy(cells, id_column)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
                yield number, ValueError(f"unreadable cell: {exc}")
    finally:
        workbook.close()


def _literal(value: Any) -> Any:
    """A Python-literal cell (the original stored dicts and lists as their repr)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return ast.literal_eval(value)
    return value


def _xlsx_vacancy(cells: dict[str, Any], id_column: str) -> dict[str, Any]:
    company = _literal(cells.get("company"))
    area = _literal(cells.get("area"))
    links = _literal(cells.get("links"))
    published = _literal(cells.get("publicationTime"))
    industries = _literal(cells.get("industry"))
    if industries is not None and not isinstance(industries, list | tuple):
        raise ValueError("industry: expected a list of industry groups")
    return {
        "id": cells.get(id_column),
        "name": cells.get("name"),
        "description": cells.get("description"),
        "industries": industries or (),
        "company": company.get("name") if isinstance(company, dict) else None,
        "salary": cells.get("compensation"),
        "url": links.get("desktop") if isinstance(links, dict) else None,
        "logo": cells.get("logo"),
        "area": area.get("name") if isinstance(area, dict) else None,
        "published_at": _published(published),
    }


def _published(value: Any) -> datetime | str | None:
    if isinstance(value, dict):
        if "$" in value:
            return value["$"]
        if "@timestamp" in value:
            return datetime.fromtimestamp(int(value["@timestamp"]), tz=UTC)
    return value if isinstance(value, str) else None
