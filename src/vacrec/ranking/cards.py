"""The cards of a catalog as columns: one UTF-8 buffer per text field, one array per number.

A Python object per vacancy costs far more than its text (a million cards in
objects took gigabytes), so a snapshot keeps each field as a column and builds
a :class:`Card` only for the handful a request shows. Every column is a NumPy
array, so cards save and load with the index and may be memory-mapped: the
full descriptions (only the legacy API shows them) then stay on disk until read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vacrec.catalog.schema import EXPERIENCES, REMOTE, SCHEDULES, CatalogRecord
from vacrec.catalog.text import clean_text, cut_at_word, tokenize
from vacrec.domain import as_utc

SNIPPET_CHARS = 200
SPILL_PREFIX = ".vacrec-column-"
"""Name prefix of a text column spilled to a file while building (see ``ColumnBuilder``)."""
TEXT_FIELDS = ("name", "company", "url", "logo", "snippet", "description")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CardHeader:
    """What every rendering of a card begins with: the vacancy's id, title, employer, pay and
    links. :class:`Card` extends it, and so does the API's item (``service/schemas.py``, a
    pydantic model that takes these annotations as its first fields): declared once."""

    id: str
    name: str
    company: str | None
    salary: int | None
    url: str | None
    logo: str | None


@dataclass(frozen=True)
class Card(CardHeader):
    """What a job seeker sees of one vacancy."""

    snippet: str
    published_at: datetime | None
    area: str | None
    schedule: str | None  # hh.ru's id: remote, fullDay, shift, flexible, flyInFlyOut
    experience: str | None  # noExperience, between1And3, between3And6, moreThan6
    read_description: Callable[[], str] = dataclasses.field(repr=False, compare=False)
    """Reads the full text. Only the legacy API shows it, so a card does not decode it up
    front (a description is most of a card's bytes). Cards are equal when their columns'
    other fields are: one table never holds two descriptions for one card."""

    @property
    def description(self) -> str:
        """The full description."""
        return self.read_description()

    @property
    def remote(self) -> bool:
        """True when the posting says the work is remote."""
        return self.schedule == REMOTE


_ALIAS = re.compile(r"\([^()]*\)")
"""A bracketed part of an employer's name: hh.ru shows one company as «Fntastic» in one
posting and «Fntastic» (Фнтастик)» in another."""


def job_key(name: str, company: str | None) -> int:
    """One number per job: the same title (letter case, punctuation and ё aside) at the same
    company (a bracketed alias aside) is one job however many cities it is posted in."""
    title = " ".join(tokenize(name))
    employer = " ".join(tokenize(_ALIAS.sub(" ", company or "")))
    digest = hashlib.blake2b(f"{title}\x1f{employer}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of ``text``, cut at a word boundary, with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return cut_at_word(flat, limit, min_keep=limit // 2).rstrip(" ,.;:—-") + "…"


SPILL_BYTES = 8 * 2**20
"""A text column grows in memory up to this size, then in a temporary file (see
:class:`_GrowingBytes`)."""


class _GrowingBytes:
    """A column's UTF-8 bytes: in memory while small, then appended to a temporary file.

    A million descriptions are gigabytes; in a file they cost the building process
    nothing, and :meth:`array` maps them (pages are read only when a card is shown, and
    ``saved.py`` copies such a column file to file). The file is removed once the
    mapped array is garbage collected.
    """

    def __init__(self, spill_bytes: int = SPILL_BYTES, folder: Path | None = None) -> None:
        self._spill_bytes = spill_bytes
        self._folder = folder
        self._buffer = bytearray()
        self._file: BinaryIO | None = None
        self._path = ""

    def append(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)
            return
        self._buffer += data
        if len(self._buffer) > self._spill_bytes:
            descriptor, self._path = tempfile.mkstemp(
                prefix=SPILL_PREFIX, suffix=".bin", dir=self._folder
            )
            self._file = os.fdopen(descriptor, "wb")
            self._file.write(self._buffer)
            self._buffer = bytearray()

    def array(self) -> np.ndarray:
        """The bytes as a uint8 array (mapped from the file once spilled)."""
        if self._file is None:
            return np.frombuffer(self._buffer, np.uint8)
        self._file.flush()
        mapped = np.memmap(self._path, dtype=np.uint8, mode="r")
        weakref.finalize(mapped, _remove_file, self._path)
        return mapped

    def close(self) -> None:
        """Close the file being written (it stays until its mapped array is collected)."""
        if self._file is not None:
            self._file.close()


def _remove_file(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class ColumnBuilder:
    """Collects the cards' fields row by row into growing buffers (no object per card, big
    text columns in temporary files in ``folder``, the system's temporary folder by default:
    pass a folder on disk where that one may be a RAM-backed tmpfs); :meth:`arrays` gives
    the columns."""

    def __init__(self, spill_bytes: int = SPILL_BYTES, folder: Path | None = None) -> None:
        self._ids = StringColumn()
        self._data = {f: _GrowingBytes(spill_bytes, folder) for f in TEXT_FIELDS}
        self._lengths = {f: array("i") for f in TEXT_FIELDS}  # one value's bytes: < 2 GB
        self._missing = {f: array("b") for f in TEXT_FIELDS}
        self._salary, self._salary_missing = array("q"), array("b")
        self._published, self._published_missing = array("q"), array("b")
        self._area_code = array("i")
        self._areas: dict[str, int] = {}
        self._schedule, self._experience = array("b"), array("b")
        self._job = array("q")

    def add_record(self, record: CatalogRecord) -> None:
        """:meth:`add` with the fields read off a record; text is cleaned of markup here too,
        so a store filled before ingest decoded entities still shows clean cards."""
        self.add(
            id=record.id,
            name=clean_text(record.name, tags=False),
            company=None if record.company is None else clean_text(record.company, tags=False),
            salary=record.salary,
            url=record.url,
            logo=record.logo,
            description=clean_text(record.description),
            published_at=record.published_at,
            area=record.area,
            schedule=record.schedule,
            experience=record.experience,
        )

    def add(
        self,
        *,
        id: str,
        name: str,
        company: str | None,
        salary: int | None,
        url: str | None,
        logo: str | None,
        description: str,
        published_at: datetime | None,
        area: str | None = None,
        schedule: str | None = None,
        experience: str | None = None,
    ) -> None:
        self._ids.append(id)
        self._area_code.append(
            -1 if area is None else self._areas.setdefault(area, len(self._areas))
        )
        self._schedule.append(SCHEDULES.index(schedule) if schedule in SCHEDULES else -1)
        self._experience.append(EXPERIENCES.index(experience) if experience in EXPERIENCES else -1)
        self._job.append(job_key(name, company))
        values = (name, company, url, logo, snippet(description), description)
        for field, value in zip(TEXT_FIELDS, values, strict=True):
            encoded = b"" if value is None else value.encode()
            self._data[field].append(encoded)
            self._lengths[field].append(len(encoded))
            self._missing[field].append(value is None)
        self._salary.append(salary or 0)
        self._salary_missing.append(salary is None)
        self._published.append(_micros(published_at))
        self._published_missing.append(published_at is None)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns, named as :class:`CardTable` loads them (call once, when done)."""
        ids = self._ids.array()
        # Sorted once here, saved with the columns: a lookup is a binary search, and a loading
        # process does not sort a million ids again.
        by_id = np.argsort(ids, kind="stable").astype(np.int32)
        out: dict[str, np.ndarray] = {"ids": ids, "by_id": by_id}
        for field in TEXT_FIELDS:
            offsets = np.zeros(len(self._lengths[field]) + 1, dtype=np.int64)
            np.cumsum(np.frombuffer(self._lengths[field], np.int32), out=offsets[1:])
            out[f"{field}_offsets"] = offsets
            out[f"{field}_data"] = self._data[field].array()
            self._data[field].close()
            out[f"{field}_missing"] = np.frombuffer(self._missing[field], np.int8).astype(bool)
        out["salary"] = np.frombuffer(self._salary, np.int64).copy()
        out["salary_missing"] = np.frombuffer(self._salary_missing, np.int8).astype(bool)
        out["published_us"] = np.frombuffer(self._published, np.int64).copy()
        out["published_missing"] = np.frombuffer(self._published_missing, np.int8).astype(bool)
        out["area_names"] = np.asarray(list(self._areas), dtype=str) if self._areas else _NO_TEXT
        out["area_code"] = np.frombuffer(self._area_code, np.int32).copy()
        out["schedule"] = np.frombuffer(self._schedule, np.int8).copy()
        out["experience"] = np.frombuffer(self._experience, np.int8).copy()
        jobs = np.frombuffer(self._job, np.int64).copy()
        out["job"] = jobs
        out["by_job"] = np.argsort(jobs, kind="stable").astype(np.int32)
        return out


_NO_TEXT = np.empty(0, "U1")


class StringColumn:
    """Strings gathered into NumPy 'U' arrays a chunk at a time: a million ids held as
    Python objects would cost ~60 bytes each beyond their characters."""

    def __init__(self, chunk: int = 1 << 16) -> None:
        self._chunk = chunk
        self._pending: list[str] = []
        self._arrays: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._pending) + sum(len(a) for a in self._arrays)

    def append(self, value: str) -> None:
        self._pending.append(value)
        if len(self._pending) >= self._chunk:
            self._arrays.append(np.asarray(self._pending, dtype=str))
            self._pending = []

    def array(self) -> np.ndarray:
        """Every string so far, as one 'U' array as wide as the longest."""
        parts = [*self._arrays, *([np.asarray(self._pending, dtype=str)] if self._pending else [])]
        return np.concatenate(parts) if parts else np.empty(0, "U1")


def _code_name(names: tuple[str, ...], code: int) -> str | None:
    return names[code] if 0 <= code < len(names) else None


def _micros(moment: datetime | None) -> int:
    if moment is None:
        return 0
    return (as_utc(moment) - _EPOCH) // timedelta(microseconds=1)


class CardTable(Mapping[str, Card]):
    """Cards by vacancy id, read from columns; card numbers are positions in ``ids`` (the
    order the records came in, which need not be the index's order)."""

    def __init__(self, columns: Mapping[str, np.ndarray]) -> None:
        self._ids = columns["ids"]
        self._columns = columns
        self._by_id = columns["by_id"]
        # (missing, offsets, bytes) of each text field, looked up once: a request builds a
        # handful of cards, and each reads five fields.
        self._texts = {
            field: (
                columns[f"{field}_missing"],
                columns[f"{field}_offsets"],
                columns[f"{field}_data"],
            )
            for field in TEXT_FIELDS
        }
        self.area_names: tuple[str, ...] = tuple(str(a) for a in columns["area_names"])
        self.area_code: np.ndarray = columns["area_code"]
        """Per card number: the position of its area in :attr:`area_names`, -1 unknown."""
        self.remote: np.ndarray = columns["schedule"] == SCHEDULES.index(REMOTE)
        """Per card number: True when the work is remote."""
        self.experience_code: np.ndarray = columns["experience"]
        """Per card number: the position of its experience id in ``EXPERIENCES``, -1 unknown."""
        self._jobs, self._by_job = columns["job"], columns["by_job"]

    @classmethod
    def empty(cls) -> CardTable:
        return cls(ColumnBuilder().arrays())

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns, ids included."""
        return dict(self._columns)

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self._columns.values()))

    def id_at(self, number: int) -> str:
        """The vacancy id of card ``number``."""
        return str(self._ids[number])

    def number_of(self, vacancy_id: str) -> int:
        """The card number of ``vacancy_id``, or -1."""
        ids, order = self._ids, self._by_id
        if not len(ids):
            return -1
        found = int(np.searchsorted(ids, vacancy_id, sorter=order))
        if found < len(ids) and ids[order[found]] == vacancy_id:
            return int(order[found])
        return -1

    def numbers_of(self, vacancy_ids: list[str]) -> np.ndarray:
        """The card numbers of ``vacancy_ids`` (all of this table), in one vectorised search."""
        if not vacancy_ids:
            return np.zeros(0, dtype=np.intp)
        wanted = np.asarray(vacancy_ids, dtype=str)
        found = np.searchsorted(self._ids, wanted, sorter=self._by_id)
        found = np.minimum(found, len(self._ids) - 1)
        numbers = np.asarray(self._by_id[found], dtype=np.intp)
        if not (self._ids[numbers] == wanted).all():
            raise KeyError("a vacancy id is not in this card table")
        return numbers

    def card(self, number: int) -> Card:
        """The card with the card number ``number``."""
        c = self._columns
        return Card(
            id=str(self._ids[number]),
            name=self._text("name", number) or "",
            company=self._text("company", number),
            salary=None if c["salary_missing"][number] else int(c["salary"][number]),
            url=self._text("url", number),
            logo=self._text("logo", number),
            snippet=self._text("snippet", number) or "",
            published_at=None
            if c["published_missing"][number]
            else _EPOCH + timedelta(microseconds=int(c["published_us"][number])),
            area=self._area(number),
            schedule=_code_name(SCHEDULES, int(c["schedule"][number])),
            experience=_code_name(EXPERIENCES, int(c["experience"][number])),
            read_description=partial(self._description, number),
        )

    def job(self, number: int) -> int:
        """The job key (:func:`job_key`) of the card ``number``."""
        return int(self._jobs[number])

    def also_in(self, number: int) -> list[str]:
        """The other areas the same job (title and company) is posted in, in catalog order."""
        jobs, order = self._jobs, self._by_job
        key = jobs[number]
        first = int(np.searchsorted(jobs, key, side="left", sorter=order))
        last = int(np.searchsorted(jobs, key, side="right", sorter=order))
        own = self.area_code[number]
        codes = self.area_code[np.sort(order[first:last])]
        seen: list[str] = []
        for code in codes.tolist():
            if code >= 0 and code != own and self.area_names[code] not in seen:
                seen.append(self.area_names[code])
        return seen

    def _area(self, number: int) -> str | None:
        code = int(self.area_code[number])
        return None if code < 0 else self.area_names[code]

    def _description(self, number: int) -> str:
        return self._text("description", number) or ""

    def _text(self, field: str, number: int) -> str | None:
        missing, offsets, data = self._texts[field]
        if missing[number]:
            return None
        return data[offsets[number] : offsets[number + 1]].tobytes().decode()

    def __getitem__(self, vacancy_id: str) -> Card:
        number = self.number_of(str(vacancy_id))
        if number < 0:
            raise KeyError(vacancy_id)
        return self.card(number)

    def __contains__(self, vacancy_id: object) -> bool:
        return isinstance(vacancy_id, str) and self.number_of(vacancy_id) >= 0

    def __iter__(self) -> Iterator[str]:
        return (str(i) for i in self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def descriptions(self) -> Iterable[str]:
        """Every description, by card number (offline use)."""
        return (self._description(n) for n in range(len(self)))
