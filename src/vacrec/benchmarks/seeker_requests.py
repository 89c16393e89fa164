"""A labelled set of seekers' own words and the postings each would open (`vacrec bench relevance`).

Requests live in ``data/seeker_requests.jsonl`` (shipped with the package): the text a seeker
types, its language (``ru``/``en``), an age, a packaged skill and a fixed ``split`` — ``tune``
(weights and thresholds are chosen on it) or ``test`` (only reported). What is a good card is
not stored as ids but as explicit rules over the posting's title, applied to whatever catalog
is served, so the judgement can be read and reviewed: ``title`` is a regular expression that
must match the lower-cased title (ё folded to е) and ``not`` one that must not (e.g. senior
roles for «без опыта», or «продавец» for a fashion designer). The rules were reviewed by
printing every judged title of the shared 2023 catalog (:func:`review`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

SPLITS = ("tune", "test")
LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class SeekerRequest:
    """One labelled request: what a seeker typed and the rule judging the cards."""

    id: str
    text: str
    lang: str
    age: int
    skill: str
    split: str
    title: re.Pattern[str]
    exclude: re.Pattern[str] | None

    def is_good(self, name: str) -> bool:
        """Would this seeker open a posting with this title?"""
        title = fold(name)
        return bool(self.title.search(title)) and not (
            self.exclude is not None and self.exclude.search(title)
        )


class Titled(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def fold(text: str) -> str:
    """Lower case, ё as е: the form the rules are written for."""
    return text.lower().replace("ё", "е")


def parse(lines: Iterable[str]) -> list[SeekerRequest]:
    """Requests from JSON lines (blank lines skipped); a bad field raises ValueError."""
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["split"] not in SPLITS or row["lang"] not in LANGUAGES:
            raise ValueError(f"line {number}: split must be {SPLITS}, lang {LANGUAGES}")
        out.append(
            SeekerRequest(
                id=str(row["id"]),
                text=str(row["text"]),
                lang=row["lang"],
                age=int(row["age"]),
                skill=str(row["skill"]),
                split=row["split"],
                title=re.compile(row["title"]),
                exclude=re.compile(row["not"]) if row.get("not") else None,
            )
        )
    return out


def load() -> list[SeekerRequest]:
    """The packaged labelled set."""
    text = resources.files("vacrec.benchmarks").joinpath("data/seeker_requests.jsonl")
    return parse(text.read_text(encoding="utf-8").splitlines())


def judge(
    requests: Sequence[SeekerRequest], postings: Iterable[Titled]
) -> dict[str, frozenset[str]]:
    """Request id → ids of the postings its rule calls good, over ``postings``."""
    rows = [(p.id, p.name) for p in postings]
    return {r.id: frozenset(pid for pid, name in rows if r.is_good(name)) for r in requests}


def review(requests: Sequence[SeekerRequest], postings: Iterable[Titled]) -> str:
    """Every request with the distinct titles it judges good: what a reviewer reads."""
    rows = list(postings)
    lines = []
    for r in requests:
        titles = sorted({p.name for p in rows if r.is_good(p.name)})
        lines.append(f"## {r.id} [{r.split} {r.lang} {r.skill}] {r.text} — {len(titles)} titles")
        lines.extend(f"   {t}" for t in titles)
    return "\n".join(lines)
