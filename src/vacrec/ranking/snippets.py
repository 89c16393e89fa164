"""A card's snippet cut around the words that matched the seeker's, with those words marked.

The stored snippet is a posting's first words, usually the employer's boilerplate. For the
handful of cards a request shows, the description is searched for the seeker's stems
(the index's own analysis, so what is marked is what matched) and the window of
``SNIPPET_CHARS`` holding the most of them is shown. The result is a list of plain-text
parts, each marked or not: a client renders marked parts as such without ever parsing
markup, so a hostile description stays text.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count

from vacrec.catalog.text import normalise
from vacrec.ranking.cards import SNIPPET_CHARS

_WORD = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+")
LEAD_CHARS = 40
"""Context kept before the first matched word of the window."""
SCAN_CHARS = 4_000
"""Only this much of a description is searched (a card shows 200 characters): the words a
posting leads with; scanning whole descriptions cost a millisecond a request."""
STEM_CACHE = 65_536
"""Words whose stem is remembered: a card's description has hundreds of words, mostly the
same few thousand across the catalog, and stemming each anew cost half a request."""
WORDS_CACHE = 8_192
"""Descriptions whose words and stems are remembered (about 2 KB each; see ``_words_of``)."""


@dataclass(frozen=True)
class Part:
    """A run of snippet text; ``mark``: these are words the seeker's matched."""

    text: str
    mark: bool


def query_stems(preference: str) -> frozenset[str]:
    """The stems a description's words are compared with."""
    return frozenset(normalise(preference))


def marked_snippet(
    description: str, stems: frozenset[str], fallback: str, limit: int = SNIPPET_CHARS
) -> list[Part]:
    """The window of ``description`` with the most words whose stem is in ``stems``, those
    words marked; ``fallback`` (the stored snippet) when none matches."""
    if not stems:
        return [Part(fallback, False)] if fallback else []
    text = description[:SCAN_CHARS]
    words = _words_of(text)
    spans = words.spans
    hits = [
        (spans[2 * i], spans[2 * i + 1])
        for i in compress(count(), map(stems.__contains__, words.stems))
    ]
    if not hits:
        return [Part(fallback, False)] if fallback else []
    start, stop = _best_window(text, hits, limit)
    parts: list[Part] = []
    if start > 0:
        parts.append(Part("…", False))
    at = start
    for first, last in hits:
        if first < start or last > stop:
            continue
        if first > at:
            parts.append(Part(_flat(text[at:first]), False))
        parts.append(Part(text[first:last], True))
        at = last
    if stop > at:
        parts.append(Part(_flat(text[at:stop]), False))
    if stop < len(description):
        parts.append(Part("…", False))
    return [p for p in parts if p.text]


@dataclass(frozen=True, slots=True)
class _Words:
    """The content words of one text: ``stems[i]`` is the stem of the word at
    ``spans[2 * i]:spans[2 * i + 1]`` (stop words and numbers left out)."""

    spans: array[int]
    stems: tuple[str, ...]


_ANALYSED: dict[tuple[int, int], _Words] = {}


def _words_of(text: str) -> _Words:
    """The words of ``text`` with their stems, found once per description and remembered.

    A card's description is the same on every request until the catalog changes, but
    finding and stemming its words took 0.1–0.4 ms a card: now a request only tests the
    remembered stems against the seeker's. The table is keyed by the text's hash and
    length rather than the text (which would double its size; two texts of one length
    sharing a 64-bit hash are not a practical risk) and starts over when it holds
    ``WORDS_CACHE`` texts (each a few kilobytes), so it never grows with the catalog.
    Plain dict operations: safe under the threads that serve requests."""
    key = (hash(text), len(text))
    words = _ANALYSED.get(key)
    if words is None:
        words = _analyse(text)
        if len(_ANALYSED) >= WORDS_CACHE:
            _ANALYSED.clear()
        _ANALYSED[key] = words
    return words


def _analyse(text: str) -> _Words:
    spans: array[int] = array("I")
    stems: list[str] = []
    for m in _WORD.finditer(text):
        stem = _stem(m.group(0))
        if stem is not None:
            spans.extend(m.span())
            stems.append(stem)
    return _Words(spans, tuple(stems))


@lru_cache(maxsize=STEM_CACHE)
def _stem(word: str) -> str | None:
    """The index's stem of one word (None for a stop word or a number)."""
    stems = normalise(word)
    return stems[0] if stems else None


def _best_window(text: str, hits: list[tuple[int, int]], limit: int) -> tuple[int, int]:
    """(start, stop) of at most ``limit`` characters, cut at spaces, covering the most hits."""
    best, best_count = 0, -1
    for first, _ in hits:
        start = max(0, first - LEAD_CHARS)
        count = sum(1 for a, b in hits if a >= start and b <= start + limit)
        if count > best_count:
            best, best_count = start, count
    start = best
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and start - space < LEAD_CHARS else start
    stop = min(len(text), start + limit)
    if stop < len(text):
        space = text.rfind(" ", start, stop)
        if space > start + limit // 2:
            stop = space
    return start, stop


def _flat(text: str) -> str:
    """Whitespace runs (line breaks too) as one space."""
    return re.sub(r"\s+", " ", text)
