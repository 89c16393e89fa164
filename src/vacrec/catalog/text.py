"""Text normalisation shared by ranking and industry inference.

Lower-case, strip HTML and punctuation, tokenise Russian and English words,
drop stop words (packaged lists, no download at run time), and Snowball-stem
each word in its own language.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import Stemmer
from stop_words import get_stop_words

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[a-zа-яё0-9]+")
_CYRILLIC = re.compile(r"[а-яё]")
_MIN_LENGTH = 2
# Words the Russian Snowball stemmer cuts as if they were reflexive verbs
# («живопись» → «живоп», but «живописи» → «живопис»): mapped to the stem of
# their other forms so every form of the word matches.
_STEM_OVERRIDES = {"живопись": "живопис", "роспись": "роспис", "подпись": "подпис"}


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    words = {w.lower().replace("ё", "е") for w in get_stop_words("ru")}
    words |= {w.lower() for w in get_stop_words("en")}
    return frozenset(words)


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Words of ``text``: lower-cased, HTML and punctuation removed, ё folded to е."""
    plain = html.unescape(_TAG.sub(" ", text or "")).lower().replace("ё", "е")
    return _WORD.findall(plain)


def normalise(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order, stop words removed."""
    stop = _stop_words()
    russian, english = _stemmers()
    tokens: list[str] = []
    for word in tokenize(text):
        if len(word) < _MIN_LENGTH or word in stop or word.isdigit():
            continue
        if word in _STEM_OVERRIDES:
            tokens.append(_STEM_OVERRIDES[word])
            continue
        stemmer = russian if _CYRILLIC.search(word) else english
        tokens.append(stemmer.stemWord(word))
    return tokens


def normalise_to_text(text: str) -> str:
    """:func:`normalise` joined by spaces: the form a vectoriser consumes."""
    return " ".join(normalise(text))


def cut_at_word(text: str, limit: int, min_keep: int = 0) -> str:
    """``text`` with whitespace collapsed and cut to at most ``limit`` characters at the last
    word boundary — unless that boundary keeps no more than ``min_keep`` characters, then
    exactly at ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1]
    space = cut.rfind(" ")
    return cut[:space] if space > min_keep else flat[:limit]
