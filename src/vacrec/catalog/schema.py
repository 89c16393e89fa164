"""The normalised vacancy, validated once at the boundary of every reader, and the record a
serving snapshot is built from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vacrec.catalog.text import clean_text

SCHEDULES: tuple[str, ...] = ("fullDay", "shift", "flexible", "remote", "flyInFlyOut")
"""hh.ru's work schedule ids (``schedule.id``; the 2023 spreadsheet's ``@workSchedule``)."""
EXPERIENCES: tuple[str, ...] = ("noExperience", "between1And3", "between3And6", "moreThan6")
"""hh.ru's experience ids (``experience.id``; the spreadsheet's ``workExperience``)."""
REMOTE = "remote"


class Vacancy(BaseModel):
    """One job posting in the normalised form of DESIGN.md.

    ``industries`` holds whole hh.ru industry groups (a group name may contain
    commas). When the source had none, an inferred group is stored with
    ``industry_inferred=True`` and the classifier's ``industry_confidence``.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=512)
    description: str = Field(min_length=1)
    industries: tuple[str, ...] = ()
    company: str | None = None
    salary: int | None = Field(default=None, ge=0)
    url: str | None = None
    logo: str | None = None
    area: str | None = None
    schedule: str | None = None
    experience: str | None = None
    published_at: datetime | None = None
    industry_inferred: bool = False
    industry_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    archived: bool = False
    """hh.ru reports the posting closed (``archived: true``): stored, never served."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("id must be a string or an integer")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value

    @field_validator("id", "name", mode="after")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = clean_text(value, tags=False).strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("description", mode="after")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # Kept as the source wrote it but for markup (entities decoded, tags removed): a card
        # shows it as text. Duplicates are judged on this text.
        value = clean_text(value)
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("industries", mode="before")
    @classmethod
    def _clean_industries(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):
            raise ValueError("industries must be a list of whole group names, not a string")
        groups: list[str] = []
        for group in cast("Iterable[object]", value):  # not iterable: a TypeError, as before
            if not isinstance(group, str):
                raise ValueError("every industry must be a string")
            name = group.strip()
            if name and name not in groups:
                groups.append(name)
        return tuple(groups)

    @field_validator("salary", mode="before")
    @classmethod
    def _zero_salary_is_unknown(cls, value: object) -> object:
        if value in (0, "", None):
            return None
        if isinstance(value, float) and value == value and value >= 0:
            return round(value)  # the original stored some salaries as floats
        return value

    @field_validator("company", "url", "logo", "area", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("company", "area", mode="after")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value, tags=False).strip() or None

    @field_validator("schedule", "experience", mode="before")
    @classmethod
    def _hh_id(cls, value: object) -> object:
        """hh.ru's id, also from its ``{"id": …, "name": …}`` object; an id this code does not
        know (hh.ru adds some now and then) is unknown (None) rather than a rejected row."""
        if isinstance(value, dict):
            value = value.get("id")
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("must be an hh.ru id string")
        return value.strip()

    @field_validator("schedule", mode="after")
    @classmethod
    def _known_schedule(cls, value: str | None) -> str | None:
        return value if value in SCHEDULES else None

    @field_validator("experience", mode="after")
    @classmethod
    def _known_experience(cls, value: str | None) -> str | None:
        return value if value in EXPERIENCES else None


NOT_FROM_THE_SOURCE = frozenset({"industry_inferred", "industry_confidence", "archived"})
"""Fields a vacancy has that its source does not write: what the inference said, and
whether hh.ru closed the posting (which retires it rather than changing it)."""

CATALOG_FIELDS: tuple[str, ...] = tuple(
    name for name in Vacancy.model_fields if name not in NOT_FROM_THE_SOURCE
)
"""Fields of the normalised JSONL/CSV format, in their documented order (:class:`Vacancy`
declares them in it)."""


@dataclass(frozen=True)
class CatalogRecord:
    """One vacancy row as the snapshot is built from it (from the store or in memory)."""

    id: str
    name: str
    description: str
    industries: tuple[str, ...]
    company: str | None = None
    salary: int | None = None
    url: str | None = None
    logo: str | None = None
    published_at: datetime | None = None
    area: str | None = None
    schedule: str | None = None
    experience: str | None = None


def content_hash(vacancy: Vacancy | CatalogRecord) -> str:
    """A digest of the source fields: equal digests mean nothing to update.

    Inferred industries are left out, so re-ingesting an unchanged row keeps
    its earlier inference instead of counting as an update; so is ``archived``, which
    retires a posting rather than changing it. A :class:`CatalogRecord`
    (the benchmarks' bulk writer) is hashed as the vacancy it describes, trusted as it
    comes from the store or from a catalog already validated.
    """
    if isinstance(vacancy, CatalogRecord):
        vacancy = Vacancy.model_construct(
            **{f.name: getattr(vacancy, f.name) for f in fields(vacancy)}
        )
    dumped = vacancy.model_dump(mode="json", exclude=set(NOT_FROM_THE_SOURCE))
    if vacancy.industry_inferred:
        dumped["industries"] = []
    return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()
