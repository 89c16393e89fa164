"""Where and how a seeker wants to work: read from the request's fields or from their words,
and applied to the cards of one industry, with one card per job.

A work format given as a field is a filter (remote only drops every other card); said in the
words («удалённо») it is a strong preference, as words are loose («удалённо или в офисе»). A
city is always a strong preference: its jobs and remote ones first, the others after, marked.

Pure: the catalog's area names and card columns come in as arguments. Russian city names
are matched by Snowball stems, so «в Москве», «Москва» and «москвы» are one city, and
«в Нижнем Новгороде» is «Нижний Новгород»; a few English and colloquial names are aliases.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vacrec.catalog.schema import EXPERIENCES
from vacrec.catalog.terms import ROOT_MARK, experience_wish
from vacrec.catalog.text import normalise, stem_words, tokenize
from vacrec.ranking.cards import CardTable
from vacrec.ranking.index import MATCH_THRESHOLD, Match

WorkFormat = Literal["any", "remote", "office"]
WORK_FORMATS: tuple[str, ...] = ("any", "remote", "office")
STRONG_SHARE = 0.5
"""A card matches strongly when its words hold at least this share of what the best
candidate's hold of the text (:meth:`Match.coverage`), not of its cosine: cosine favours short
postings, so a one-word title sharing the commonest of two words would pass, and a posting
saying the one typed word once would not. A place or format said in the words, or an
experience wish, reorders the strong matches among themselves and the weak ones after them,
but never lifts a weak match above a strong one (a Python teacher in Moscow, sharing only
«преподаватель», above drawing teachers elsewhere, for «преподаватель рисования в Москве»). A
place given in the form's field is the seeker's explicit choice and still comes first whatever
the match."""
POOL_MAX = 4096
"""Most candidates looked through for a request naming a place (or for distinct jobs): beyond
them, a big industry's postings elsewhere fill the answer rather than its farthest matches."""

# Colloquial and English names of the cities seekers name most (the catalog's names are
# Russian). Only used when the catalog holds the city.
ALIASES: dict[str, str] = {
    "мск": "Москва",
    "moscow": "Москва",
    "спб": "Санкт-Петербург",
    "питер": "Санкт-Петербург",
    "петербург": "Санкт-Петербург",
    "st petersburg": "Санкт-Петербург",
    "saint petersburg": "Санкт-Петербург",
    "petersburg": "Санкт-Петербург",
    "минск": "Минск",
    "minsk": "Минск",
    "almaty": "Алматы",
    "kazan": "Казань",
    "novosibirsk": "Новосибирск",
    "yekaterinburg": "Екатеринбург",
    "ekaterinburg": "Екатеринбург",
    "екб": "Екатеринбург",
    "nizhny novgorod": "Нижний Новгород",
    "astana": "Астана",
    "tbilisi": "Тбилиси",
    "yerevan": "Ереван",
    "belgrade": "Белград",
}
# Stems that say "remote" (удалённо, удалёнка, удалённая работа, дистанционно, remote, из дома).
_REMOTE_STEMS = ("удален", "дистанц", "remot", "wfh")
_REMOTE_PHRASES = (("из", "дом"), ("work", "from", "home"), ("home", "offic"))
_OFFICE_PHRASES = (("в", "офис"), ("in", "offic"), ("in", "the", "offic"), ("on", "site"))
_OFFICE_STEMS = ("onsit", "офлайн", "offlin")
# A town named like an adjective («Московский», «Солнечный») is not read from words: «в
# московском офисе» names no town.
_ADJECTIVE_ENDINGS = ("ский", "цкий", "ской", "ный", "ная", "ская")
_REGION = re.compile(r"\s*\([^)]*\)\s*$")


def _stems(text: str) -> list[str]:
    """Every word stemmed, stop words kept ("в", "из" matter here)."""
    return stem_words(text)


def area_key(name: str) -> str:
    """How an area is looked up: letter case and ё aside."""
    return " ".join(tokenize(name))


@dataclass(frozen=True)
class Understood:
    """What place and format a request asks for, and where each came from."""

    area: str | None = None
    work_format: WorkFormat = "any"
    area_from_words: bool = False
    format_from_words: bool = False
    experience: str | None = None  # hh.ru's level the words ask for (catalog.terms.experience_wish)


class UnknownArea(ValueError):
    """An ``area`` the catalog does not hold; ``suggestions`` are close names it does."""

    def __init__(self, area: str, suggestions: list[str]) -> None:
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"area: the catalog has no vacancies in {area!r}{hint}")


class Places:
    """The catalog's area names, looked up by exact name, a case form or an alias.

    A word of the text names an area's word when the area word (lower case, ё as е) or its
    stem is the text word, its stem, or the text word less up to three final letters (a case
    ending the stemmer keeps: «Кирове» is «Киров», whose stem is «кир»).
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sorted(set(names)))
        self._by_key = {area_key(n): n for n in self.names}
        self._adjectives: set[str] = set()
        # first word's key -> [(keys of every word, name)]
        self._index: dict[str, list[tuple[tuple[frozenset[str], ...], str]]] = {}
        for name in self.names:
            self._add(name, name)
            short = _REGION.sub("", name)  # «Киров (Кировская область)» is «Киров»
            if short != name and short:
                self._by_key.setdefault(area_key(short), name)
                self._add(short, name)
            if short.lower().endswith(_ADJECTIVE_ENDINGS):
                self._adjectives.add(name)
        for alias, name in ALIASES.items():
            if name in self.names:
                self._add(alias, name)

    def _add(self, text: str, name: str) -> None:
        words = tokenize(text)
        if not words:
            return
        keys = tuple(
            frozenset({w, s if len(s) >= _SHORT else _SHORT_MARK + s})
            for w, s in zip(words, stem_words(text), strict=True)
        )
        for key in keys[0]:
            self._index.setdefault(key, []).append((keys, name))

    def resolve(self, area: str) -> str:
        """The catalog's name of ``area`` (any letter case, ё or е, a case form or an alias);
        raises :class:`UnknownArea` with suggestions."""
        exact = self._by_key.get(area_key(area))
        if exact is not None:
            return exact
        words = tokenize(area)
        found = self._match_at(words, stem_words(area), 0) if words else None
        if found is not None and found[1] == len(words):
            return found[0]
        close = difflib.get_close_matches(area_key(area), list(self._by_key), n=3, cutoff=0.6)
        raise UnknownArea(area.strip(), [self._by_key[c] for c in close])

    def find(self, words: list[str], stems: list[str]) -> str | None:
        """The first area named in a text (its lower-cased words and their stems); a town named
        like an adjective («Московский») is never read from words, only from the field."""
        for start in range(len(words)):
            found = self._match_at(words, stems, start)
            if found is not None and found[0] not in self._adjectives:
                return found[0]
        return None

    def _match_at(self, words: list[str], stems: list[str], start: int) -> tuple[str, int] | None:
        """(name, words covered) of the longest area starting at word ``start``."""
        best: tuple[str, int] | None = None
        for key in _candidates(words[start], stems[start]):
            for keys, name in self._index.get(key, ()):
                stop = start + len(keys)
                if stop > len(words) or (best is not None and len(keys) <= best[1]):
                    continue
                if all(
                    keys[j] & _candidates(words[start + j], stems[start + j])
                    for j in range(1, len(keys))
                ):
                    best = (name, len(keys))
        return best

    def understand(
        self, preference: str, area: str | None = None, work_format: WorkFormat | None = None
    ) -> Understood:
        """The place and format asked for: explicit fields win over the words; an unknown
        explicit area raises :class:`UnknownArea`."""
        stems = _stems(preference) if preference else []
        chosen_area, area_words = None, False
        if area is not None:  # a blank one is unknown too: the field was given
            chosen_area = self.resolve(area)
        elif stems:
            chosen_area = self.find(tokenize(preference), stems)
            area_words = chosen_area is not None
        chosen_format: WorkFormat = "any"
        format_words = False
        if work_format is not None:
            chosen_format = work_format
        elif stems:
            said = _format_in(stems)
            # «в Москве или удалённо»: a city ranks remote jobs first anyway, so remote said
            # beside a city is not a filter that would drop the city's office jobs.
            if said == "remote" and chosen_area is not None:
                said = None
            if said is not None:
                chosen_format, format_words = said, True
        return Understood(
            chosen_area, chosen_format, area_words, format_words, experience_wish(preference)
        )


_SHORT = 3
_SHORT_MARK = "~"


def _candidates(word: str, stem: str) -> frozenset[str]:
    """What a text word may be as an area word: itself, its stem, or itself less a case ending
    of up to three letters (never shorter than three). A stem shorter than three letters
    («уф» of «Уфа») only matches a longer word that ends in a case ending («Уфе»), never the
    bare stem (UV printing is «уф»)."""
    cut = {word[:-n] for n in (1, 2, 3) if len(word) - n >= _SHORT}
    short = {_SHORT_MARK + word[:-n] for n in (1, 2) if 0 < len(word) - n < _SHORT}
    return frozenset({word, stem, *cut, *short})


def _format_in(stems: list[str]) -> WorkFormat | None:
    def has(phrases: tuple[tuple[str, ...], ...]) -> bool:
        return any(tuple(stems[i : i + len(p)]) == p for p in phrases for i in range(len(stems)))

    if any(s.startswith(_REMOTE_STEMS) for s in stems) or has(_REMOTE_PHRASES):
        return "remote"
    if any(s.startswith(_OFFICE_STEMS) for s in stems) or has(_OFFICE_PHRASES):
        return "office"
    return None


@dataclass(frozen=True)
class Chosen:
    """One card picked for an answer."""

    id: str
    number: int  # card number
    score: float
    place_match: bool | None  # None: the request named no place or format
    also_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """The cards of one answer and whether the words matched none of the industry's."""

    items: list[Chosen]
    fallback: bool
    duplicates: int = 0  # candidates left out as a job already in the answer


FITS, UNKNOWN_FIT, MISFIT = 0, 1, 2
"""How a posting's required experience suits a request's wish: sorted in this order."""
_NEAR: dict[str, tuple[str, ...]] = {
    "noExperience": ("noExperience",),
    "moreThan6": ("between3And6", "moreThan6"),
}
_FAR: dict[str, tuple[str, ...]] = {
    "noExperience": ("between3And6", "moreThan6"),
    "moreThan6": ("noExperience",),
}


def experience_fit(codes: np.ndarray, wish: str | None) -> np.ndarray:
    """Per posting (its ``EXPERIENCES`` code, -1 unknown): :data:`FITS` when its required
    experience suits ``wish``, :data:`MISFIT` when it is the other end (a senior role for
    «без опыта»), :data:`UNKNOWN_FIT` otherwise; all :data:`UNKNOWN_FIT` without a wish."""
    fit = np.full(codes.shape, UNKNOWN_FIT, dtype=np.int8)
    if wish is None:
        return fit
    fit[np.isin(codes, [EXPERIENCES.index(e) for e in _NEAR[wish]])] = FITS
    fit[np.isin(codes, [EXPERIENCES.index(e) for e in _FAR[wish]])] = MISFIT
    return fit


def choose(
    match: Match,
    cards: CardTable,
    industry: str,
    k: int,
    wanted: Understood,
    industry_size: int,
    exclude: Collection[str] = (),
    demote: Collection[str] = (),
) -> Choice:
    """Up to ``k`` cards of ``industry``: one per job (title and company), those outside the
    work format dropped, those in the named city (or remote) first, each group in the
    match's order (best match, then most recent, then shown before).

    The match's ranking is asked for a pool of candidates that grows (doubling, up to
    :data:`POOL_MAX`) until ``k`` preferred distinct jobs are found or the industry is
    exhausted.
    """
    area_code = -1
    if wanted.area is not None and wanted.area in cards.area_names:
        area_code = cards.area_names.index(wanted.area)
    placed = wanted.area is not None or wanted.work_format != "any"
    # Remote said in the words: remote postings that match come before any other, however
    # strong (an illustrator who wants remote work would not apply to an office elsewhere).
    remote_said = wanted.work_format == "remote" and wanted.format_from_words
    skipped = len(exclude) + len(demote)
    total = industry_size + len(demote)
    pool = min(max(4 * k, 20) + skipped, POOL_MAX)
    while True:
        ranked = match.top_k(industry, pool, exclude=exclude, demote=demote)
        ids = [vid for vid, _ in ranked.items]
        numbers = cards.numbers_of(ids)
        remote = cards.remote[numbers] if len(numbers) else np.zeros(0, bool)
        fits = np.ones(len(ids), dtype=bool)  # the work format asked for
        if wanted.work_format == "remote":
            fits = remote
        elif wanted.work_format == "office":
            fits = ~remote
        strict = not wanted.format_from_words
        keep = fits if strict else np.ones(len(ids), dtype=bool)
        if wanted.area is not None:
            here = cards.area_code[numbers] == area_code
            preferred = (here if wanted.work_format == "office" else here | remote) & fits
        else:
            preferred = fits
        fit = experience_fit(cards.experience_code[numbers], wanted.experience)
        share = _strong_share(wanted)
        shown = [vid in demote for vid in ids] if demote else [False] * len(ids)
        covered = match.coverage(numbers, _place_terms(wanted)) if share > 0 else np.ones(len(ids))
        scores = np.fromiter((score for _, score in ranked.items), np.float64, len(ids))
        first = preferred & (scores >= MATCH_THRESHOLD) if remote_said else np.zeros(len(ids), bool)
        picked, duplicates = _pick(
            ranked.items,
            numbers,
            keep,
            preferred,
            fit,
            shown,
            covered,
            cards,
            k,
            placed,
            share,
            first,
        )
        enough = sum(1 for c in picked if c.place_match is not False) >= k
        # Or settled: k cards, none outside the place, and the pool already reaches weak
        # matches (a pool in score order may still hide a better-covering posting deeper
        # in, but one scoring lower than a weak match is not one to go looking for).
        strong_from = share * max(
            (c for c, kept in zip(covered.tolist(), keep, strict=True) if kept), default=0.0
        )
        reaches_weak = bool(ranked.items) and float(covered[-1]) < strong_from
        if remote_said:  # and no remote match deeper in: the pool reaches non-matches
            reaches_weak = reaches_weak and float(scores[-1]) < MATCH_THRESHOLD
        coverage_of = dict(zip(ids, covered.tolist(), strict=True))
        settled = (
            len(picked) == k
            and reaches_weak
            and all(c.place_match is not False or coverage_of[c.id] >= strong_from for c in picked)
        )
        enough = enough or settled
        exhausted = len(ids) < pool or pool >= min(total, POOL_MAX)
        if enough or exhausted:
            break
        pool = min(pool * 2, POOL_MAX)
    return Choice(picked, bool(ranked.fallback), duplicates)


def word_coverage(match: Match, numbers: Sequence[int], wanted: Understood) -> np.ndarray:
    """The share of the words' weight each card (by number) holds, the place and work format
    said in the words not counted (the place rules weigh them): [len(numbers)]."""
    return match.coverage(np.asarray(numbers, dtype=np.int64), _place_terms(wanted))


def _place_terms(wanted: Understood) -> Callable[[str], bool]:
    """Whether an index term is the place or format asked for (a Moscow posting's «Москва»
    is no better a match for «в Москве»: the place rules weigh it)."""
    city = tuple(normalise(wanted.area)) if wanted.area else ()
    remote = _REMOTE_STEMS if wanted.work_format == "remote" else ()
    prefixes = tuple(t.rstrip(ROOT_MARK) for t in city) + remote
    return lambda term: bool(prefixes) and term.rstrip(ROOT_MARK).startswith(prefixes)


def said_place(wanted: Understood) -> Callable[[str], bool]:
    """Whether a typed word is the place or format the words said («москве», «удалённо»): a
    card's matched words leave it out, as its city and format are shown beside them and the
    place rules, not the match, weigh them."""
    is_place = _place_terms(wanted)

    def said(word: str) -> bool:
        stems = normalise(word)
        return bool(stems) and all(is_place(stem) for stem in stems)

    return said


def topic(text: str, wanted: Understood) -> str:
    """``text`` without the words naming the place or format asked for: what the match reads.
    «акварель в Москве» is about watercolour; left in, «Москве» matched every posting whose
    address or boilerplate names Moscow, in whatever industry, and steered the industry
    prior (to marketing); the place rules, not the match, weigh where a job is."""
    if wanted.area is None and wanted.work_format != "remote":
        return text
    said = said_place(wanted)
    words = tokenize(text)
    kept = [w for w in words if not said(w)]
    return text if len(kept) == len(words) else " ".join(kept)


def _strong_share(wanted: Understood) -> float:
    """:data:`STRONG_SHARE`, or 0 (every card strong) when the place came from a field or
    nothing (no place, format or experience) reorders the cards."""
    area_field = wanted.area is not None and not wanted.area_from_words
    format_field = wanted.work_format != "any" and not wanted.format_from_words
    said = wanted.area is not None or wanted.work_format != "any" or wanted.experience
    # Nothing to reorder by: the match's own order stands (coverage is for what reorders).
    return 0.0 if area_field or format_field or not said else STRONG_SHARE


def _pick(
    items: list[tuple[str, float]],
    numbers: np.ndarray,
    keep: np.ndarray,
    preferred: np.ndarray,
    fit: np.ndarray,
    shown: list[bool],
    covered: np.ndarray,
    cards: CardTable,
    k: int,
    placed: bool,
    strong_share: float,
    first: np.ndarray,
) -> tuple[list[Chosen], int]:
    """Cards not ``shown`` before in the session first, then those shown; in each, those
    ``first`` says (remote matches when the words ask for remote work), then strong matches
    (see :data:`STRONG_SHARE`), then weak ones; in each, preferred candidates first, then by
    experience fit, then in the match's order; a job once."""
    picked: list[Chosen] = []
    jobs: set[int] = set()
    duplicates = 0
    # Python lists, read once: indexing NumPy arrays element by element in the loops below
    # made a NumPy scalar per access.
    keeps, prefer, fits, firsts = keep.tolist(), preferred.tolist(), fit.tolist(), first.tolist()
    number_of = numbers.tolist()
    kept = [i for i in range(len(items)) if keeps[i]]
    coverage = covered.tolist()
    best = max((coverage[i] for i in kept), default=0.0)
    weak = [coverage[i] < strong_share * best for i in range(len(items))]
    order = sorted(
        kept, key=lambda i: (shown[i], not firsts[i], weak[i], not prefer[i], fits[i])
    )  # stable
    for i in order:
        number = number_of[i]
        job = cards.job(number)
        if job in jobs:
            duplicates += 1
            continue
        if len(picked) == k:
            break
        jobs.add(job)
        vid, score = items[i]
        picked.append(
            Chosen(
                vid,
                number,
                score,
                bool(prefer[i]) if placed else None,
                tuple(cards.also_in(number)),
            )
        )
    return picked, duplicates
