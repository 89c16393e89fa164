"""Text normalisation shared by ranking and industry inference.

Lower-case, strip HTML and punctuation, tokenise Russian and English words,
drop stop words (the packaged Russian list and Snowball's English function words,
no download at run time), and Snowball-stem
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


_ENGLISH_FUNCTION_WORDS = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself"
    " she her hers herself it its itself they them their theirs themselves what which who whom"
    " this that these those am is are was were be been being have has had having do does did"
    " doing would should could ought a an the and but if or because as until while of at by for"
    " with about against between into through during before after above below to from up down"
    " in out on off over under again further then once here there when where why how all any"
    " both each few more most other some such no nor not only own same so than too very s t d"
    " ll m re ve y"
)
ENGLISH_STOP_WORDS = frozenset(_ENGLISH_FUNCTION_WORDS.split())
"""English function words (Snowball's English stop list, whose stemmer we use). The packaged
English list (1,333 words) also drops content words a posting or a seeker means: "web",
"computer", "qa", "test", "face", "line", "part", "full", "home", "free", "text", "copy",
"research", "ring" — "web designer" read as "designer", «PR-менеджер» as «менеджер»."""


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    words = {w.lower().replace("ё", "е") for w in get_stop_words("ru")}
    return frozenset(words | ENGLISH_STOP_WORDS)


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


def stem_words(text: str) -> list[str]:
    """Every word of ``text`` stemmed in its language, stop words kept (in «в Москве» the
    «в» matters to whoever reads places)."""
    russian, english = _stemmers()
    return [(russian if _CYRILLIC.search(w) else english).stemWord(w) for w in tokenize(text)]


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


# An entity with its semicolon only: html.unescape alone would also decode "&not" in "&nothing".
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A tag starts with a letter (or "/" and a letter): "<3 лет" or "a < b" are text, not markup.
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_LINE_TAG = re.compile(r"<br\s*/?>|</(?:p|li|div|h[1-6])\s*>", re.IGNORECASE)


def clean_text(text: str, tags: bool = True) -> str:
    """``text`` with HTML entities decoded (twice encoded ones too) and, with ``tags``, tags
    removed.

    Sources disagree on whether text is HTML: the 2023 spreadsheet keeps ``&quot;`` and
    ``&#39;`` in plain text, and a page would show them raw. Plain text is kept as it is.
    Titles and company names keep anything tag-like (``tags=False``): no source sends them
    as HTML, so "<b>" there is what the employer typed, shown as text.
    """
    for _ in range(2):  # "&amp;quot;" is a quote that was escaped twice
        if "&" not in text:
            break
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    if tags and "<" in text:
        text = _MARKUP.sub(" ", _LINE_TAG.sub("\n", text))
    return text


def has_markup(text: str) -> bool:
    """True when ``text`` still holds an HTML entity or tag (what a card must never show)."""
    return bool(_ENTITY.search(text) or _MARKUP.search(text))
