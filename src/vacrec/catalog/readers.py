"""Catalog readers: turn a file into validated vacancies plus per-row rejections.

The format is chosen by extension and confirmed by content, so a mislabelled
or binary file is refused as a whole (:class:`CatalogFileError`). Within a good
file, each bad row is rejected with its row/line number and reason and the
good rows go on.

Files are read lazily (:func:`open_catalog`): a row is parsed when it is asked
for, so a multi-GB JSONL never sits in memory. What can be checked up front
(extension, emptiness, binary content, the CSV or spreadsheet header) is
checked when the file is opened; what needs the whole file (a JSONL none of
whose lines is a vacancy, bad UTF-8 late in the file) raises when the reader
gets there, which the caller's transaction turns into "nothing changed".
A ``.json`` array is still parsed whole: it is an API page, not a bulk format.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from vacrec.catalog.hh_api import is_hh_vacancy, vacancy_from_hh
from vacrec.catalog.schema import CATALOG_FIELDS, Vacancy

XLSX_REQUIRED_COLUMNS = frozenset({"name", "description", "industry"})
XLSX_ID_COLUMNS = ("vacancyId", "id")
_ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES = 4096

Row = tuple[int, dict[str, Any] | Exception]


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


class CatalogStream:
    """The rows of one opened catalog file, parsed one at a time as they are iterated.

    ``done_bytes`` estimates how far into the file the reader is (for a progress
    bar with an ETA); ``size`` is the file's size in bytes.
    """

    def __init__(self, path: Path, rows: Iterator[Row], position: Callable[[], float]) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._rows = rows
        self._position = position

    @property
    def done_bytes(self) -> int:
        """Bytes of the file read so far (estimated for workbooks)."""
        return min(self.size, int(self._position() * self.size))

    def __iter__(self) -> Iterator[Vacancy | Rejection]:
        for number, row in self._rows:
            if isinstance(row, Exception):
                yield Rejection(self.path.name, number, str(row))
                continue
            try:
                yield Vacancy.model_validate(row)
            except ValidationError as exc:
                yield Rejection(self.path.name, number, _explain(exc))


def open_catalog(path: Path) -> CatalogStream:
    """Open one catalog file for lazy reading, choosing the reader by extension and content."""
    if not path.is_file():
        raise CatalogFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise CatalogFileError(f"{path}: the file is empty")
    if suffix == ".xlsx":
        if not head.startswith(_ZIP_MAGIC):
            raise CatalogFileError(f"{path}: not an .xlsx workbook (no zip signature)")
        return _xlsx_stream(path)
    if suffix not in {".json", ".jsonl", ".csv"}:
        raise CatalogFileError(
            f"{path}: unsupported extension {suffix!r}; use .xlsx, .json, .jsonl or .csv"
        )
    if b"\x00" in head:
        raise CatalogFileError(f"{path}: binary content, not a text catalog")
    if suffix == ".csv":
        return _csv_stream(path)
    if suffix == ".json" and not _looks_like_json_lines(head):
        return _json_document_stream(path)
    return _jsonl_stream(path)


def read_catalog(path: Path) -> ReadResult:
    """Read one whole catalog file into memory (for small files; ingest streams instead)."""
    result = ReadResult()
    for item in open_catalog(path):
        if isinstance(item, Rejection):
            result.rejections.append(item)
        else:
            result.vacancies.append(item)
    return result


def _fraction(handle: IO[bytes], size: int) -> float:
    """How far into the file ``handle`` is; a closed handle was read to the end."""
    return 1.0 if handle.closed else handle.tell() / size


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "row"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _not_utf8(path: Path, exc: UnicodeDecodeError, where: str) -> CatalogFileError:
    return CatalogFileError(f"{path}: not UTF-8 text ({exc.reason} {where})")


# --- JSON / JSONL: hh.ru API objects or the normalised schema -----------------------------


def _looks_like_json_lines(head: bytes) -> bool:
    """A ``.json`` whose first line is a whole JSON object followed by more lines is JSONL."""
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if not text.startswith("{"):
        return False
    first, newline, rest = text.partition("\n")
    if not newline or not rest.strip():
        return False
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _json_document_stream(path: Path) -> CatalogStream:
    """A JSON array, a saved search page or one object: parsed whole, as a page is small."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc, f"at byte {exc.start}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return _jsonl_stream(path)  # a .json file may still hold one object per line
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        document = document["items"]  # a saved page of hh.ru search results
    elif isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise CatalogFileError(f"{path}: expected a JSON array of vacancy objects")
    if not any(_is_catalog_object(o) for o in document):
        raise _no_vacancy_fields(path)
    rows = ((number, _to_normalised(obj)) for number, obj in enumerate(document, start=1))
    return CatalogStream(path, rows, lambda: 1.0)


def _jsonl_stream(path: Path) -> CatalogStream:
    handle = path.open("rb")
    size = max(1, path.stat().st_size)
    return CatalogStream(path, _jsonl_rows(path, handle), lambda: _fraction(handle, size))


def _jsonl_rows(path: Path, handle: IO[bytes]) -> Iterator[Row]:
    """One JSON object per line, parsed as it is read.

    Lines are cut at b"\\n" only: str.splitlines() would also cut at U+2028 and
    U+2029, which real hh.ru descriptions contain and JSON allows raw inside strings.
    """
    parsed_any = catalog_any = False
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, exc, f"on line {number}") from exc
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, ValueError(f"invalid JSON: {exc.msg}")
                continue
            parsed_any = True
            catalog_any = catalog_any or _is_catalog_object(obj)
            yield number, _to_normalised(obj)
    if not parsed_any:
        raise CatalogFileError(f"{path}: no line is a JSON vacancy object")
    if not catalog_any:
        raise _no_vacancy_fields(path)


def _is_catalog_object(obj: Any) -> bool:
    return isinstance(obj, dict) and ("name" in obj or "description" in obj)


def _no_vacancy_fields(path: Path) -> CatalogFileError:
    """A file none of whose objects looks like a vacancy is refused whole."""
    return CatalogFileError(
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


def _csv_stream(path: Path) -> CatalogStream:
    """Check the header now; read the records as they are asked for."""
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    try:
        columns = set(reader.fieldnames or ())
    except UnicodeDecodeError as exc:
        text.close()
        raise _not_utf8(path, exc, "in the header") from exc
    missing = {"id", "name", "description"} - columns
    if missing:
        text.close()
        raise CatalogFileError(
            f"{path}: not a catalog CSV; missing columns {sorted(missing)} "
            f"(expected {', '.join(CATALOG_FIELDS)})"
        )
    size = max(1, path.stat().st_size)
    return CatalogStream(path, _csv_rows(path, text, reader), lambda: _fraction(raw, size))


def _csv_rows(path: Path, text: IO[str], reader: csv.DictReader[str]) -> Iterator[Row]:
    with text:
        number = 1  # line 1 is the header
        try:
            for number, row in enumerate(reader, start=2):
                yield number, _csv_row(row)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc, f"after record {number}") from exc


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


def _xlsx_stream(path: Path) -> CatalogStream:
    """Open the workbook (read-only, row by row) and check the header now."""
    from openpyxl import load_workbook  # only this reader needs it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip
        raise CatalogFileError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(rows, ())]
        missing = XLSX_REQUIRED_COLUMNS - set(header)
        id_column = next((c for c in XLSX_ID_COLUMNS if c in header), None)
        if missing or id_column is None:
            needed = sorted(missing | ({"vacancyId"} if id_column is None else set()))
            raise CatalogFileError(
                f"{path}: not in the original service's layout; missing columns {needed}"
            )
    except BaseException:
        workbook.close()
        raise
    index = {name: i for i, name in enumerate(header) if name}
    last_row = max(1, sheet.max_row or 1)
    at = [1]
    return CatalogStream(
        path, _xlsx_rows(workbook, rows, index, id_column, at), lambda: at[0] / last_row
    )


def _xlsx_rows(
    workbook: Any, rows: Iterator[tuple[Any, ...]], index: dict[str, int], id_column: str,
    at: list[int],
) -> Iterator[Row]:  # fmt: skip
    try:
        for number, values in enumerate(rows, start=2):  # row 1 is the header
            at[0] = number
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
        "schedule": cells.get("@workSchedule"),  # a plain id cell: 'remote', 'fullDay', …
        "experience": cells.get("workExperience"),  # 'noExperience', 'between1And3', …
        "published_at": _published(published),
    }


def _published(value: Any) -> datetime | str | None:
    if isinstance(value, dict):
        if "$" in value:
            text: str = value["$"]
            return text
        if "@timestamp" in value:
            return datetime.fromtimestamp(int(value["@timestamp"]), tz=UTC)
    return value if isinstance(value, str) else None
