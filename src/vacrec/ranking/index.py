"""One TF-IDF space over the whole catalog, built once per catalog version, only read per request.

Every vacancy is a row: the stemmed words of its title (counted ``TITLE_WEIGHT``
times, since seekers mostly type what a title says) and of its description,
with sublinear term frequency ``1 + ln(tf)``, smoothed idf
``ln((1 + n) / (1 + df)) + 1`` and L2-normalised rows. One idf over the whole
catalog makes a cosine mean the same thing in every industry, so industries
can be compared by how well their postings match a text — the content
features of the agent — while cards are still ranked within the chosen industry.

A text is matched once (:meth:`TfidfIndex.match`): its stems map to columns of
a CSC matrix and only those columns are walked (an inverted-index dot
product), so the cost follows the postings of the text's terms rather than the
catalog's size. The same :class:`Match` then gives every industry's features
and the top k of any industry. Nothing is cached per request.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from itertools import islice

import numpy as np
from scipy import sparse

from vacrec.catalog.terms import document_terms, is_generic, query_terms
from vacrec.catalog.text import tokenize
from vacrec.domain import as_utc
from vacrec.ranking import meaning
from vacrec.ranking.cards import StringColumn

TITLE_WEIGHT = 8
"""How many times a title's words count against the description's (chosen on the tuning half
of the labelled requests: 3 → 8 lifted its precision@5 from 0.65 to 0.72)."""
MATCH_THRESHOLD = 0.016
"""A card scoring below this is not called a match (it shares a word or two, weakly): chosen
on the tuning half of the labelled requests, where it best tells the cards a seeker would open
from the rest (accuracy over the 170 cards served). Since a title's other words cost up to a
fifth of a score (``TITLE_PRECISION``): accuracy 0.876 / 0.882 / 0.900 / 0.894 / **0.906** /
0.894 / 0.876 / 0.876 at 0.01 / 0.012 / 0.014 / 0.015 / 0.016 / 0.017 / 0.018 / 0.02. Read
beside the score, neither the title's share of the words, the share all the posting's words
hold, the score against the best card's nor the meaning cosine told them better (at most
0.906 with either, as an "or" or an "and"). Before the title's other words counted: 0.018,
accuracy 0.906; before a title saying none of the words kept a tenth of its score
(``TITLE_COVERAGE``): 0.15, accuracy 0.76."""
MATCH_COVERAGE = 0.8
"""...or holds at least this share of the words' weight, title or description: a posting saying
the one word typed («акварель») in its description only scores under the threshold (its title
says none of it) yet says everything the seeker asked. On the tuning half's 170 cards "score at
least the threshold or coverage at least 0.8" is as accurate as the threshold alone (0.906; 0.900
at 0.6 or 0.7), so this names no card a match the threshold alone would not, there."""
FUSION_WEIGHT = 0.1
"""How much the meaning of the words counts: a posting the text touches scores
``(1 − w) · its lexical cosine + w · the cosine of their meaning vectors`` (``ranking.meaning``;
that one counted only from ``MEANING_FLOOR``). Meaning reorders the postings that share a
term with the text and adds none that share none, so the match's rows, its industries'
``share`` and its fallback stay lexical. Chosen on the tuning half of the labelled requests
(precision@5 0.719 at 0, 0.727 at 0.05, 0.744 at 0.1, 0.727 at 0.15, 0.738 at 0.2, 0.709 at
0.3); it costs the title-typing seekers of ``bench relevance`` 0.01 of posting-in-cards."""
COORDINATION = 0.2
"""How much a posting's score depends on holding all the text's words: the fused cosine is
multiplied by ``1 − c + c · coverage`` (coverage: the share of the text's weight its words
hold, :meth:`Match.coverage`; Lucene's classic "coord"). Cosine alone favours short postings:
«Преподаватель математики», sharing only «преподаватель», outscored drawing schools'
postings holding both words for «ищу работу преподавателем рисования». Chosen on the tuning
half of the labelled requests with ``PRIOR_COORDINATION`` 0.2: precision@5 0.750 / 0.750 /
**0.762** / 0.756 at 0 / 0.15 / 0.2 / 0.25 (0.732 at 0.3 and 0.5, 0.678 at 1 with the prior's
at 0): every word counting fully buries good postings that do not repeat every word typed."""
PRIOR_COORDINATION = 0.2
"""The same for the industries' features (what the content prior reads). Tuning half, cards'
coordination 0: precision@5 0.750 / 0.750 / 0.727 / 0.727 / 0.727 / 0.709 at 0 / 0.2 / 0.3 /
0.4 / 0.5 / 1 (the title-typing seekers' industry hit 0.907 / 0.913 / 0.923 / 0.930 / 0.937 /
0.933: whole-title matches tell the industry better; seekers' own words do not)."""
GENERIC_WEIGHT = 0.5
"""How much a role word that names no craft (``catalog.terms.is_generic``: «преподаватель»,
«художник», "junior") weighs in a text that also names a subject, against its TF-IDF weight:
«учитель рисования» served Python and web teachers, sharing only «учитель», among drawing
teachers. Chosen on the tuning half of the labelled requests (see the README)."""
GENERIC_ONLY = 0.25
"""A posting sharing only role words with a text that names a subject scores this share of
its score: with the lower weight alone a short title («Учитель математики») could still
outscore a drawing school whose «рисования» is a common word. Chosen on the tuning half."""
TITLE_COVERAGE = 0.9
"""How much a posting's score depends on its *title* holding the text's words: the score (and
the industries' features) is multiplied by ``1 − t + t · title coverage`` (the share of the
text's weight the title's words hold; beside a subject, a title holding only role words covers
nothing). A title counting ``TITLE_WEIGHT`` times only lifts its words' sublinear tf to
``1 + ln 8`` ≈ 3.1, against 2.1 for a word said three times in a description, so
«Художник-декоратор», whose description mentions «лепка», outranked «Художник / Керамист» for
«лепка из глины, керамика», and «Художник-дизайнер», whose description lists «упаковка», led
«дизайнер упаковки». With the factor a posting whose title says what was typed comes first;
the description orders those whose titles say nothing. Chosen on the tuning half of the
labelled requests: precision@5 0.797 / 0.809 / 0.821 / **0.832** / 0.832 at 0 / 0.8 / 0.85 /
0.9 / 0.95; the title-typing seekers' posting among five 0.737 → 0.797, industry hit 0.920 →
0.960."""
TITLE_PRECISION = 0.2
"""How much a posting's score depends on its title saying *only* what was typed: the score (and
the industries' features) is multiplied by ``1 − p + p · the share of the title's own weight
held by the text's terms`` (a title's length normalisation, as BM25F gives each field). Two
titles that both hold every typed word tied on ``TITLE_COVERAGE``, and the description's
length decided: typed «2D-художник», the four postings titled so ranked below «2D
художник-аниматор (на рисование мультфильмов)» and others. Chosen on the tuning half of the
labelled requests, the largest that costs it nothing: precision@5 0.832 at 0 / 0.1 / 0.15 /
**0.2**, 0.826 at 0.25 and 0.3, 0.821 at 0.5; the title-typing seekers' posting among five
0.800 / 0.800 / 0.803 / **0.810** / 0.817 / 0.820 / 0.833."""
FILLER_POOL = 256
"""How many of an industry's latest postings the padding after the matches is chosen from by
meaning (``Match._padding_rows``): a bounded dot product per padded industry at any catalog
size."""
MEANING_FLOOR = 0.2
"""Meaning closer than this adds nothing: static vectors of unrelated texts are seldom
orthogonal."""
TOP_WEIGHTS = np.array([5.0, 4.0, 3.0, 2.0, 1.0]) / 15.0
"""The industry feature ``top`` weighs the cosines of its five best postings (the cards a
seeker sees, best first) by these: the first card counts most."""
MATCH_FEATURES = ("best", "top", "share")
"""Per industry: best cosine, the ``TOP_WEIGHTS``-weighted mean of the five best (zeros when
fewer match), and the share of its postings sharing a term with the text."""

_DTYPE = np.float32
_NO_ROWS = np.zeros(0, dtype=np.int64)
_MIN_TIME = datetime.min.replace(tzinfo=UTC)
# Above this share of the catalog's rows touched, a dense accumulator beats sorting.
_DENSE_SHARE = 0.125
# Matrix entries read at a time when a posting's title weight is summed (``title_mass``).
_TITLE_MASS_SLICE = 1 << 22
# Up to this many hits one sort of them all gives every industry's top five fastest.
_SORT_ALL_HITS = 8192


@dataclass(frozen=True)
class Ranked:
    """Ranked vacancy ids with their cosine scores.

    ``fallback`` is True when the text shared no term with the industry's
    postings; the items are then the most recent first (published time
    descending, then id) with score 0.0. Items after the matching ones are
    padded the same way, with score 0.0.
    """

    items: list[tuple[str, float]]
    fallback: bool


@dataclass(frozen=True)
class IndexDocument:
    """What the index needs of one vacancy."""

    id: str
    description: str
    industries: tuple[str, ...]
    published_at: datetime | None = None
    name: str = ""


def _as_utc(moment: datetime | None) -> datetime:
    if moment is None:
        return _MIN_TIME
    return as_utc(moment)


def _top_rows(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (row, score) by score; ties go to the lower row (the more recent posting)."""
    if len(rows) > k:
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth  # every row tied with the k-th, for a stable tie-break
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


class Match:
    """How one text matches the catalog: every (industry, posting) row it touches, scored once.

    Rows are industry-major, so the hits of each industry form one contiguous
    segment; nothing is sorted beyond what a caller asks for.
    """

    __slots__ = (
        "_columns",
        "_index",
        "_industry_scores",
        "_mass",
        "_removed",
        "_rows",
        "_scores",
        "_segment",
        "_sense",
    )

    def __init__(
        self,
        index: TfidfIndex,
        rows: np.ndarray,
        scores: np.ndarray,
        columns: np.ndarray | None = None,
        mass: np.ndarray | None = None,
        industry_scores: np.ndarray | None = None,
        sense: np.ndarray | None = None,
    ) -> None:
        self._index = index
        self._sense = sense  # the text's meaning vector (None: no meaning in the index)
        self._removed = _NO_ROWS  # rows taken out (see without): never padding either
        self._rows = rows  # ascending
        self._scores = scores
        # What the industries' features read (scores weighed by coverage, PRIOR_COORDINATION)
        self._industry_scores = scores if industry_scores is None else industry_scores
        self._segment = np.searchsorted(rows, index._industry_start)
        # The text's index columns and each one's share of the query (squared unit weights,
        # summing to 1): what :meth:`coverage` counts.
        self._columns = np.empty(0, np.int64) if columns is None else columns
        self._mass = np.empty(0, np.float64) if mass is None else mass

    def coverage(
        self,
        vacancy_numbers: Sequence[int] | np.ndarray,
        ignore: Callable[[str], bool] | None = None,
    ) -> np.ndarray:
        """For each vacancy (by its position in :attr:`TfidfIndex.ids`), the share of the
        text's weight its words hold (0–1): a card holding every word the seeker typed covers
        1 whatever its length; one holding only the commonest of two words covers little,
        however short its title (cosine favours short postings). Terms ``ignore`` accepts
        (a city or "remote" said in the words, which the place rules weigh) count nothing."""
        index = self._index
        postings = index._order[np.asarray(vacancy_numbers, dtype=np.int64)]
        out = np.zeros(len(postings), dtype=np.float64)
        indptr, indices = index._matrix.indptr, index._matrix.indices
        vocabulary = index._vocabulary
        for column, mass in zip(self._columns.tolist(), self._mass.tolist(), strict=True):
            if ignore is not None and ignore(str(vocabulary[column])):
                continue
            holders = indices[indptr[column] : indptr[column + 1]]  # ascending
            at = np.minimum(np.searchsorted(holders, postings), max(len(holders) - 1, 0))
            if len(holders):
                out[holders[at] == postings] += mass
        return out

    @property
    def empty(self) -> bool:
        """True when the text shares no term with any posting."""
        return len(self._rows) == 0

    def features(self) -> np.ndarray:
        """``MATCH_FEATURES`` of every industry, in :attr:`TfidfIndex.industries` order:
        float32 array [n_industries, 3], all in [0, 1]."""
        index = self._index
        n = len(index.industries)
        out = np.zeros((n, len(MATCH_FEATURES)), dtype=_DTYPE)
        if self.empty:
            return out
        start, stop = self._segment[:-1], self._segment[1:]
        matched = stop - start
        if len(self._rows) <= _SORT_ALL_HITS:
            self._top_by_sorting(start, matched, out)
        else:
            self._top_by_partition(start, stop, matched, out)
        out[:, 2] = matched / np.maximum(index.sizes, 1)
        np.clip(out, 0.0, 1.0, out=out)
        return out

    def without(self, rows: np.ndarray) -> Match:
        """This match with the (industry, posting) ``rows`` of the index taken out: what is
        left to show once they are excluded (a session's rejected postings)."""
        rows = np.asarray(rows, dtype=self._rows.dtype)
        if len(rows) == 0:
            return self
        # Bisection of the few rows into the sorted hits, not a scan of every hit.
        at = np.minimum(np.searchsorted(self._rows, rows), max(len(self._rows) - 1, 0))
        hits = at[self._rows[at] == rows] if len(self._rows) else at[:0]

        def kept(values: np.ndarray) -> np.ndarray:
            return np.delete(values, hits) if len(hits) else values

        left = Match(
            self._index,
            kept(self._rows),
            kept(self._scores),
            self._columns,
            self._mass,
            kept(self._industry_scores),
            self._sense,
        )
        left._removed = np.union1d(self._removed, rows)
        return left

    def posting_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct postings the text touches (rows of :attr:`TfidfIndex.posting_rows`)
        and each one's score; a posting in two industries is listed once."""
        postings = self._index._vacancy_index[self._rows]
        distinct, first = np.unique(postings, return_index=True)
        return distinct, self._scores[first]

    def card_postings(self, k: int) -> np.ndarray:
        """Each industry's k cards as :meth:`top_k` orders them, nothing excluded but the rows
        taken out (:meth:`without`) — the best matches, then the padding — as rows of
        :attr:`TfidfIndex.posting_rows`, −1 past an industry's size: [n_industries, k]."""
        index = self._index
        starts = index._industry_start
        removed = set(self._removed.tolist())
        out = np.full((len(index.industries), k), -1, dtype=np.int64)
        for i in range(len(index.industries)):
            lo, hi = self._segment[i], self._segment[i + 1]
            rows, _ = _top_rows(self._rows[lo:hi], self._scores[lo:hi], k)
            first, last = int(starts[i]), int(starts[i + 1])
            if len(rows) < k:  # padded as top_k pads (see _padding_rows)
                taken = set(rows.tolist()) | removed
                rest = (row for row in self._padding_rows(first, last) if row not in taken)
                pad = np.fromiter(islice(rest, k - len(rows)), np.int64)
                rows = np.concatenate([rows, pad])
            out[i, : len(rows)] = index._vacancy_index[rows]
        return out

    def _top_by_sorting(self, start: np.ndarray, matched: np.ndarray, out: np.ndarray) -> None:
        """Best and weighted top-five scores of every industry with one sort of all hits: a
        score is in (0, 1], so ``2 · industry + 1 − score`` orders by industry, then score."""
        segment = np.repeat(np.arange(len(matched)), matched)
        scores = self._industry_scores
        ranked = scores[np.argsort(2.0 * segment + (1.0 - scores))]
        position = np.arange(len(ranked)) - np.repeat(start, matched)
        head = position < len(TOP_WEIGHTS)
        weighted = ranked[head] * TOP_WEIGHTS[position[head]]
        out[:, 1] = np.bincount(segment[head], weights=weighted, minlength=len(matched))
        has = matched > 0
        out[has, 0] = ranked[start[has]]

    def _top_by_partition(
        self, start: np.ndarray, stop: np.ndarray, matched: np.ndarray, out: np.ndarray
    ) -> None:
        """The same, partitioning each industry's hits: linear in them (big catalogs)."""
        top = len(TOP_WEIGHTS)
        for i in np.flatnonzero(matched):
            scores = self._industry_scores[start[i] : stop[i]]
            if len(scores) > top:
                scores = np.partition(scores, len(scores) - top)[-top:]
            best = np.sort(scores)[::-1]
            out[i, 0], out[i, 1] = best[0], best @ TOP_WEIGHTS[: len(best)]

    def top_k(
        self,
        industry: str,
        k: int,
        exclude: Collection[str] = (),
        demote: Collection[str] = (),
    ) -> Ranked:
        """The k postings of ``industry`` closest to the text (see :class:`Ranked`).

        ``exclude``: ids never to return (a seeker rejected them). ``demote``: ids to return
        only when nothing else of the industry fits (already shown), after all others.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        index = self._index
        position = index._industry_position.get(industry)
        if position is None:
            return Ranked(items=[], fallback=False)
        skipped = set(exclude) | set(demote)
        start, stop = self._segment[position], self._segment[position + 1]
        best, scores = _top_rows(self._rows[start:stop], self._scores[start:stop], k + len(skipped))
        ids = index._ids
        ranked = [
            (str(ids[index._vacancy[row]]), min(1.0, float(score)))
            for row, score in zip(best, scores, strict=True)
        ]
        items = [item for item in ranked if item[0] not in skipped][:k]
        matched = len(items)
        first = int(index._industry_start[position])
        last = int(index._industry_start[position + 1])

        def recent() -> Iterator[str]:
            return (str(ids[index._vacancy[row]]) for row in range(first, last))

        if len(items) < k:  # pad with the industry's postings closest in meaning, or latest
            chosen = {vid for vid, _ in ranked}
            for vid in self._filler(first, last):
                if len(items) == k:
                    break
                if vid not in chosen and vid not in skipped:
                    items.append((vid, 0.0))
        if len(items) < k and demote:  # nothing else fits: what was shown before, best first
            again = [item for item in ranked if item[0] in demote]
            again += [(vid, 0.0) for vid in recent() if vid in demote]
            taken = {vid for vid, _ in items}
            for vid, score in again:
                if len(items) == k:
                    break
                if vid not in taken and vid not in exclude:
                    items.append((vid, score))
                    taken.add(vid)
        return Ranked(items=items, fallback=matched == 0)

    def _padding_rows(self, first: int, last: int) -> Iterator[int]:
        """An industry's rows ``first .. last − 1`` in the order that pads its cards after
        the matches: its ``FILLER_POOL`` most recent postings, closest in meaning to the text
        first (ties, and all when the index holds no meaning, most recent first), then the
        rest most recent first. The matches' rows are among them: callers skip those. A
        padding card shares no word with the text; the one closest in meaning is the nearest
        thing to what was asked (a sculptor's third ask reached a cashier by date)."""
        index = self._index
        head = np.arange(first, min(last, first + FILLER_POOL))
        vectors = index._posting_vectors
        if self._sense is not None and vectors is not None and len(head):
            close = (vectors[index._vacancy_index[head]] * self._sense).sum(axis=1)
            head = head[np.argsort(-close, kind="stable")]
        yield from head.tolist()
        yield from range(first + len(head), last)

    def _filler(self, first: int, last: int) -> Iterator[str]:
        """The ids of :meth:`_padding_rows`."""
        ids, vacancy = self._index._ids, self._index._vacancy
        return (str(ids[vacancy[row]]) for row in self._padding_rows(first, last))


class TfidfIndex:
    """The catalog's TF-IDF space; see the module docstring.

    Stored once per posting (a CSC matrix: stem → postings, float32 weights,
    int32 posting numbers), so a posting in two groups costs one row, not two.
    Rows of a :class:`Match` are (industry, posting) pairs, industry-major: a
    posting's rows are listed in ``_row_of_posting``. Postings are numbered most recent
    first inside (so a segment reads scores in ascending memory order); the public
    vacancy numbers of :attr:`ids` and :attr:`matrix` keep the order the documents came
    in (``_order`` maps one to the other). Every field is a NumPy
    array (no Python object per posting or per stem), so the index saves and
    loads as plain arrays (:meth:`arrays`, :meth:`from_arrays`).
    """

    def __init__(
        self,
        vocabulary: np.ndarray,
        ids: np.ndarray,
        matrix: sparse.csc_matrix,
        idf: np.ndarray,
        industries: tuple[str, ...],
        industry_start: np.ndarray,
        vacancy: np.ndarray,
        order: np.ndarray | None = None,
        analyzer: Callable[[str], list[str]] = document_terms,
        query_analyzer: Callable[[str], list[str]] = query_terms,
        term_vectors: np.ndarray | None = None,
        posting_vectors: np.ndarray | None = None,
        in_title: np.ndarray | None = None,
    ) -> None:
        self._vocabulary = vocabulary
        # 1 where the matrix entry's term is in the posting's title (parallel to its data);
        # None: not known (no title factor, see TITLE_COVERAGE).
        self._in_title = in_title
        # Meaning (``ranking.meaning``): one vector per term (column) and per posting (row).
        self._term_vectors = term_vectors
        self._posting_vectors = posting_vectors  # sorted stems ('U'); position = column
        self._ids = ids  # posting number -> vacancy id ('U' array); most recent first
        # vacancy number (the order postings were given in) -> posting number
        self._order = np.arange(len(ids), dtype=np.int32) if order is None else order
        self._public_ids: np.ndarray | None = None
        self._matrix = matrix  # rows = postings, columns = stems
        self._idf = idf
        self._analyzer = analyzer  # a posting's title and description
        self._query_analyzer = query_analyzer  # a seeker's words
        self.industries = industries  # sorted group names; position = industry number
        self._industry_position = {name: i for i, name in enumerate(industries)}
        self._industry_start = industry_start  # [n_industries + 1] first row of each segment
        self._vacancy = vacancy  # row -> posting number (of _ids); most recent first in a segment
        # The same as native-width indices: NumPy gathers through an int32 index array about
        # five times slower (it converts it on every call), and a match gathers every row.
        self._vacancy_index = np.asarray(vacancy, dtype=np.intp)
        # posting -> its rows: _row_of_posting[_row_indptr[p] : _row_indptr[p + 1]]
        self._row_of_posting = np.argsort(vacancy, kind="stable").astype(np.int32)
        per_posting = np.bincount(vacancy, minlength=len(ids)) if len(ids) else np.zeros(0)
        self._row_indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(per_posting, out=self._row_indptr[1:])
        # The five cards of one answer name the same request's words: analyse it once.
        self._word_columns = lru_cache(maxsize=64)(self._columns_of_words)

    @classmethod
    def build(
        cls,
        documents: Iterable[IndexDocument],
        analyzer: Callable[[str], list[str]] = document_terms,
        *,
        min_df: int = 1,
        max_terms: int | None = None,
        with_meaning: bool = False,
    ) -> TfidfIndex:
        """Normalise every text once (repeated texts share the work) and assemble the matrix.

        ``documents`` is consumed once and no text is kept, so a caller may stream them: a
        text is remembered by a 16-byte digest, its term counts are appended to flat arrays,
        and a document costs a few numbers (its text's number, time, groups and id).
        Stems in fewer than ``min_df`` postings, and beyond the ``max_terms`` most frequent,
        are dropped before the rows are weighted and normalised: in a large catalog they are
        mostly typos and one-off names, and each costs vocabulary space in every process.
        ``with_meaning``: also encode every term and posting (``ranking.meaning``).
        """
        bags = _Bags(analyzer)
        postings = _Postings()
        for doc in documents:
            postings.add(doc, bags.number_of(doc.name, doc.description))
        n = len(postings)
        terms, counts, titled, bag_indptr = bags.arrays()
        stems = bags.stems()
        del bags  # the vocabulary dict: its stems are in ``stems`` now
        bag_of = postings.bags()
        uses = np.bincount(bag_of, minlength=len(bag_indptr) - 1)

        # idf over postings (a posting counts once, however many groups it is in).
        df = _counted_by_use(terms, bag_indptr, uses, len(stems))
        idf_all = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(_DTYPE)
        kept = _kept_terms(df, min_df, max_terms)
        kept = kept[np.argsort(stems[kept], kind="stable")]  # columns in stem order
        column = np.full(len(stems), -1, dtype=np.int64)
        column[kept] = np.arange(len(kept))

        # Postings are numbered most recent first (then by id): a segment then lists its
        # postings in ascending number, so gathering their scores reads memory in order.
        ids = postings.ids()
        published = postings.published()
        by_id = np.argsort(ids, kind="stable")
        recent = by_id[np.argsort(-published[by_id], kind="stable")]
        number = np.empty(n, dtype=np.int32)
        number[recent] = np.arange(n, dtype=np.int32)
        ids = ids[recent]
        del published, by_id  # freed before the matrix, the biggest allocation, is filled

        # One row per text: sublinear tf × idf of the kept stems, L2-normalised; a posting's
        # row is its text's.
        rows = _text_rows(terms, counts, titled, bag_indptr, column, idf_all)
        del terms, counts, titled  # before the matrix: at a million distinct texts, a gigabyte
        matrix, in_title = _posting_matrix(bag_of[recent], *rows, n_terms=len(kept))

        # Rows: industry-major, most recent first (then by id) within an industry.
        industries, vacancy, industry_start = postings.industry_rows(recent)
        idf = idf_all[kept]
        terms_kept = stems[kept]
        term_vectors = posting_vectors = None
        if with_meaning and len(terms_kept):
            term_vectors = meaning.term_vectors([str(t) for t in terms_kept], df[kept])
            posting_vectors = meaning.posting_vectors(matrix, term_vectors)
        return cls(
            terms_kept,
            ids,
            matrix,
            idf,
            industries,
            industry_start,
            vacancy,
            number,
            analyzer,
            term_vectors=term_vectors,
            posting_vectors=posting_vectors,
            in_title=in_title,
        )

    # --- saving and loading ------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Every array the index is made of, for :meth:`from_arrays` (the saved snapshot)."""
        m = self._matrix
        return {
            "vocabulary": self._vocabulary,
            "ids": self._ids,
            "idf": self._idf,
            "matrix_data": m.data,
            "matrix_indices": m.indices,
            "matrix_indptr": m.indptr,
            "industries": np.asarray(self.industries, dtype=str),
            "industry_start": self._industry_start,
            "vacancy": self._vacancy,
            "order": self._order,
            **({"matrix_in_title": self._in_title} if self._in_title is not None else {}),
            **(
                {"term_vectors": self._term_vectors, "posting_vectors": self._posting_vectors}
                if self._term_vectors is not None and self._posting_vectors is not None
                else {}
            ),
        }

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        analyzer: Callable[[str], list[str]] = document_terms,
    ) -> TfidfIndex:
        """The index :meth:`arrays` describes; the arrays may be memory-mapped."""
        n, n_terms = len(arrays["ids"]), len(arrays["vocabulary"])
        matrix = sparse.csc_matrix(
            (arrays["matrix_data"], arrays["matrix_indices"], arrays["matrix_indptr"]),
            shape=(n, n_terms),
            copy=False,
        )
        return cls(
            arrays["vocabulary"],
            arrays["ids"],
            matrix,
            arrays["idf"],
            tuple(str(g) for g in arrays["industries"]),
            arrays["industry_start"],
            arrays["vacancy"],
            arrays["order"],
            analyzer,
            term_vectors=arrays.get("term_vectors"),
            posting_vectors=arrays.get("posting_vectors"),
            in_title=arrays.get("matrix_in_title"),
        )

    # --- what the catalog holds --------------------------------------------------------------
    def size(self, industry: str) -> int:
        """How many vacancies the industry holds (0 when unknown)."""
        position = self._industry_position.get(industry)
        return 0 if position is None else int(self.sizes[position])

    @property
    def sizes(self) -> np.ndarray:
        """Vacancies per industry, in :attr:`industries` order."""
        return np.diff(self._industry_start)

    def industry_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Which postings each industry holds: the first row of each industry's segment
        ([n_industries + 1]) and the vacancy number of each row (its position in :attr:`ids`,
        the order the documents came in — not the posting numbers rows hold inside)."""
        public = np.empty(len(self._order), dtype=np.intp)
        public[self._order] = np.arange(len(self._order), dtype=np.intp)
        return self._industry_start, public[self._vacancy_index]

    @property
    def industry_starts(self) -> np.ndarray:
        """The first row of each industry's segment, [n_industries + 1]."""
        return self._industry_start

    @property
    def n_postings(self) -> int:
        """How many postings (vacancy numbers) the index holds."""
        return len(self._ids)

    def id_of(self, vacancy_number: int) -> str:
        """The vacancy id at ``vacancy_number`` (a position in :attr:`ids`), without building
        :attr:`ids`."""
        return str(self._ids[self._order[vacancy_number]])

    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        arrays = (*self.arrays().values(), self._row_of_posting, self._row_indptr)
        return int(sum(a.nbytes for a in arrays))

    @property
    def ids(self) -> np.ndarray:
        """Vacancy id of every posting ('U' array of str), by vacancy number: the order the
        documents were given in. Built on first use (offline: the simulator)."""
        if self._public_ids is None:
            self._public_ids = self._ids[self._order]
        return self._public_ids

    @property
    def matrix(self) -> sparse.csr_matrix:
        """One L2-normalised TF-IDF row per posting, in :attr:`ids` order (a posting without an
        industry has a zero row). Built on each call, for offline use (the simulator)."""
        in_some = (np.diff(self._row_indptr) > 0).astype(_DTYPE)
        rows = (sparse.diags(in_some) @ self._matrix).tocsr()[self._order]
        rows.eliminate_zeros()
        return rows

    @cached_property
    def posting_rows(self) -> sparse.csr_matrix:
        """One L2-normalised TF-IDF row per posting, in the index's own posting order (what
        :meth:`Match.posting_scores` and :meth:`Match.card_postings` name): built once per
        index, for the cosines between postings the agent's context reads."""
        return sparse.csr_matrix(self._matrix)

    def industries_of(self, vacancy_number: int) -> tuple[str, ...]:
        """The industry groups of one posting (by its position in :attr:`ids`)."""
        posting = self._order[vacancy_number]
        first, last = self._row_indptr[posting], self._row_indptr[posting + 1]
        rows = np.sort(self._row_of_posting[first:last])
        segments = np.searchsorted(self._industry_start, rows, side="right") - 1
        return tuple(self.industries[i] for i in segments)

    @property
    def vocabulary_size(self) -> int:
        return len(self._vocabulary)

    # --- matching a text ---------------------------------------------------------------------
    def match(self, text: str) -> Match:
        """Score every posting sharing a term with ``text`` (cosine), once."""
        stems = self._query_analyzer(text or "")
        vocabulary = self._vocabulary
        if not stems or not len(vocabulary):
            return Match(self, np.empty(0, np.int64), np.empty(0, _DTYPE))
        query = np.asarray(stems, dtype=str)
        found = np.minimum(np.searchsorted(vocabulary, query), len(vocabulary) - 1)
        known = found[vocabulary[found] == query]
        if not len(known):
            return Match(self, np.empty(0, np.int64), np.empty(0, _DTYPE))
        cols, counts = np.unique(known, return_counts=True)
        weights = (1.0 + np.log(counts)) * self._idf[cols]
        generic = np.fromiter((is_generic(str(vocabulary[c])) for c in cols), bool, len(cols))
        mixed = bool(generic.any() and not generic.all())  # a role word beside a subject
        if mixed:
            weights[generic] *= GENERIC_WEIGHT
        weights /= np.sqrt(np.dot(weights, weights))
        indptr, indices, data = self._matrix.indptr, self._matrix.indices, self._matrix.data
        spans = [(indptr[c], indptr[c + 1]) for c in cols]
        postings = np.concatenate([indices[s:e] for s, e in spans])
        values = np.concatenate([data[s:e] * w for (s, e), w in zip(spans, weights, strict=True)])
        lengths = [e - s for s, e in spans]
        masses = np.repeat(weights**2, lengths)
        # Each entry's weight towards the text's subject (0 for a role word's): a posting
        # holding none of it shares only role words.
        subject = np.repeat(np.where(generic, 0.0, weights**2), lengths) if mixed else None
        # Each entry's weight towards the text held by the posting's title (TITLE_COVERAGE);
        # beside a subject, a title holding only role words («Учитель математики» for
        # «учитель рисования») covers nothing (see _title_coverage).
        titled: np.ndarray | None = None
        title_subject: np.ndarray | None = None
        title_held: np.ndarray | None = None
        if self._in_title is not None:
            in_title = np.concatenate([self._in_title[s:e] for s, e in spans])
            titled = masses * in_title
            title_subject = None if subject is None else subject * in_title
            # Each entry's share of its posting's own vector, where the term is in its title.
            own = np.concatenate([data[s:e] for s, e in spans]).astype(np.float64)
            title_held = own**2 * in_title
        n = len(self._ids)
        sense: np.ndarray | None = None
        if self._term_vectors is not None:
            sense = meaning.query_vector(self._term_vectors, cols, weights)
        if len(postings) > _DENSE_SHARE * n:
            posting_scores = np.bincount(postings, weights=values, minlength=n)
            touched = np.flatnonzero(posting_scores > 0)
            if sense is not None:
                posting_scores[touched] = self._fused(touched, posting_scores[touched], sense)
            covered = np.bincount(postings, weights=masses, minlength=n)
            if subject is not None:
                posting_scores *= _role_only(np.bincount(postings, subject, minlength=n))
            if titled is not None:
                posting_scores *= _title_factor(postings, titled, title_subject, n)
            if title_held is not None:  # only the touched postings: the rest score 0
                held = np.bincount(postings, weights=title_held, minlength=n)[touched]
                posting_scores[touched] *= self._title_precision(held, touched)
            coordinated = posting_scores * _coordination(covered, PRIOR_COORDINATION)
            posting_scores[touched] *= _coordination(covered[touched], COORDINATION)
            row_scores = posting_scores[self._vacancy_index]
            hit = np.flatnonzero(row_scores > 0)
            prior = coordinated[self._vacancy_index][hit]
            return Match(self, hit, row_scores[hit], cols, weights**2, prior, sense)
        hit, inverse = np.unique(postings, return_inverse=True)
        scores = np.bincount(inverse, weights=values)
        if sense is not None:
            scores = self._fused(hit, scores, sense)
        covered = np.bincount(inverse, weights=masses)
        if subject is not None:
            scores = scores * _role_only(np.bincount(inverse, weights=subject))
        if titled is not None:
            scores = scores * _title_factor(inverse, titled, title_subject, len(hit))
        if title_held is not None:
            held = np.bincount(inverse, weights=title_held, minlength=len(hit))
            scores = scores * self._title_precision(held, hit)
        prior = scores * _coordination(covered, PRIOR_COORDINATION)
        scores = scores * _coordination(covered, COORDINATION)
        keep = scores > 0
        rows, row_scores = self._rows_of(hit[keep], scores[keep])
        _, row_prior = self._rows_of(hit[keep], prior[keep])
        return Match(self, rows, row_scores, cols, weights**2, row_prior, sense)

    @cached_property
    def title_mass(self) -> np.ndarray:
        """Each posting's squared weight held by its title's terms (zeros when titles are not
        known): what :data:`TITLE_PRECISION` divides by; one pass over the matrix, made when a
        snapshot is prepared for serving."""
        out = np.zeros(len(self._ids), dtype=np.float64)
        if self._in_title is None:
            return out
        data, indices, in_title = self._matrix.data, self._matrix.indices, self._in_title
        # In slices: at a million postings the matrix holds ~10⁸ entries, and whole-array
        # temporaries would cost gigabytes for a moment.
        for lo in range(0, len(data), _TITLE_MASS_SLICE):
            hi = lo + _TITLE_MASS_SLICE
            held = np.square(data[lo:hi], dtype=np.float64) * in_title[lo:hi]
            out += np.bincount(indices[lo:hi], weights=held, minlength=len(out))
        return out

    def _title_precision(self, held: np.ndarray, postings: np.ndarray) -> np.ndarray:
        """``1 − p + p · the share of each posting's title weight the text holds``
        (:data:`TITLE_PRECISION`) of ``postings``, given the title weight ``held`` in each."""
        mass = self.title_mass[postings]
        share = np.where(mass > 0, held / np.maximum(mass, 1e-12), 0.0)
        return _coordination(share, TITLE_PRECISION)

    def _fused(self, postings: np.ndarray, lexical: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The lexical cosines of ``postings`` fused with their meaning (see FUSION_WEIGHT)."""
        assert self._posting_vectors is not None
        # Row by row, not a BLAS product: equal postings must score exactly alike (BLAS rounds
        # a row by where it falls in its blocks).
        close = (self._posting_vectors[postings] * query).sum(axis=1, dtype=np.float64)
        close[close < MEANING_FLOOR] = 0.0
        fused: np.ndarray = (1.0 - FUSION_WEIGHT) * lexical + FUSION_WEIGHT * close
        return fused

    def shared_words(self, text: str, vacancy_number: int) -> tuple[str, ...]:
        """The words of ``text`` (as typed, each once) that meet a term of one posting (by its
        position in :attr:`ids`): what a card's explanation names as matched."""
        posting = int(self._order[vacancy_number])
        indptr, indices = self._matrix.indptr, self._matrix.indices
        out: list[str] = []
        for word, columns in self._word_columns(text or ""):
            for column in columns:
                postings = indices[indptr[column] : indptr[column + 1]]  # ascending
                at = int(np.searchsorted(postings, posting))
                if at < len(postings) and postings[at] == posting:
                    out.append(word)
                    break
        return tuple(out)

    def _columns_of_words(self, text: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """Each word of ``text`` (as typed, once) with the index columns of its terms."""
        vocabulary = self._vocabulary
        out: list[tuple[str, tuple[int, ...]]] = []
        for word in dict.fromkeys(tokenize(text)):
            columns: list[int] = []
            for term in self._query_analyzer(word):
                column = int(np.searchsorted(vocabulary, term))
                if column < len(vocabulary) and vocabulary[column] == term:
                    columns.append(column)
            out.append((word, tuple(columns)))
        return tuple(out)

    def _rows_of(self, postings: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (industry, posting) rows of ``postings``, ascending, each with its score."""
        first = self._row_indptr[postings]
        count = self._row_indptr[postings + 1] - first
        offsets = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        rows = self._row_of_posting[np.repeat(first, count) + offsets].astype(np.int64)
        order = np.argsort(rows, kind="stable")
        return rows[order], np.repeat(scores, count)[order]

    def top_k(self, industry: str, text: str, k: int) -> Ranked:
        """The k vacancies of ``industry`` closest to ``text`` by cosine similarity."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        return self.match(text).top_k(industry, k)


def _coordination(covered: np.ndarray, weight: float) -> np.ndarray:
    """``1 − weight + weight · covered``: the factor for postings covering ``covered``."""
    factor: np.ndarray = 1.0 - weight + weight * np.minimum(covered, 1.0)
    return factor


def _title_factor(
    postings: np.ndarray, titled: np.ndarray, title_subject: np.ndarray | None, n: int
) -> np.ndarray:
    """``1 − t + t · title coverage`` (``TITLE_COVERAGE``) of postings ``0 .. n − 1``, the
    entries (postings, titled weights) summed per posting; where the text is a subject beside
    role words (``title_subject`` given), a title holding none of the subject covers 0."""
    covered = np.bincount(postings, weights=titled, minlength=n)
    if title_subject is not None:
        covered[np.bincount(postings, weights=title_subject, minlength=n) <= 0] = 0.0
    return _coordination(covered, TITLE_COVERAGE)


def _role_only(subject_covered: np.ndarray) -> np.ndarray:
    """``GENERIC_ONLY`` for postings holding none of the text's subject words, else 1."""
    factor: np.ndarray = np.where(subject_covered > 0, 1.0, GENERIC_ONLY)
    return factor


def _kept_terms(df: np.ndarray, min_df: int, max_terms: int | None) -> np.ndarray:
    """Term numbers in at least ``min_df`` postings, at most ``max_terms`` of them (the most
    frequent; ties to the first seen)."""
    kept = np.flatnonzero(df >= min_df)
    if max_terms is not None and len(kept) > max_terms:
        kept = np.sort(kept[np.argsort(-df[kept], kind="stable")[:max_terms]])
    return kept


_FILL_ENTRIES = 1 << 19
"""Matrix entries placed at a time while the postings' matrix is filled (~20 MB in flight,
beside the matrix itself: a gigabyte at a million postings)."""
_STRING_CHUNK = 1 << 16


class _Bags:
    """The term counts of every distinct text, in flat growing arrays.

    A text is known by a 16-byte digest of its title and description (a false match
    needs ~10^19 texts), so repeated texts are normalised once and no text is held.
    """

    def __init__(self, analyzer: Callable[[str], list[str]]) -> None:
        self._analyzer = analyzer
        self.vocabulary: dict[str, int] = {}
        self._number: dict[bytes, int] = {}
        self._terms = array("i")
        self._counts = array("i")
        self._titled = array("b")  # 1 where the bag's term is in its title
        self._lengths = array("q")

    def number_of(self, name: str, description: str) -> int:
        """The number of this text's bag, counting its terms when the text is new."""
        key = _digest(name, description)
        number = self._number.get(key)
        if number is None:
            number = self._number[key] = len(self._lengths)
            title = self._analyzer(name)
            stems = title * TITLE_WEIGHT + self._analyzer(description)
            numbers = [self.vocabulary.setdefault(t, len(self.vocabulary)) for t in stems]
            terms, counts = np.unique(np.asarray(numbers, dtype=np.int32), return_counts=True)
            titled = np.isin(terms, numbers[: len(title)])  # the title's come first
            self._terms.frombytes(terms.astype(np.int32).tobytes())
            self._counts.frombytes(counts.astype(np.int32).tobytes())  # int32: a million rows
            self._titled.frombytes(titled.astype(np.int8).tobytes())
            self._lengths.append(len(terms))
        return number

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Terms and counts of every bag, whether each term is in the bag's title (int8),
        bag after bag, and where each bag starts."""
        indptr = np.zeros(len(self._lengths) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self._lengths, np.int64), out=indptr[1:])
        terms = np.frombuffer(self._terms, np.int32) if self._terms else np.empty(0, np.int32)
        counts = np.frombuffer(self._counts, np.int32) if self._counts else np.empty(0, np.int32)
        titled = np.frombuffer(self._titled, np.int8) if self._titled else np.empty(0, np.int8)
        return terms, counts, titled, indptr

    def stems(self) -> np.ndarray:
        """The stems by term number ('U' array)."""
        vocabulary = self.vocabulary
        return np.asarray(list(vocabulary), dtype=str) if vocabulary else np.empty(0, "U1")


def _digest(name: str, description: str) -> bytes:
    encoded = name.encode()
    digest = hashlib.blake2b(len(encoded).to_bytes(8, "little"), digest_size=16)
    digest.update(encoded)
    digest.update(description.encode())
    return digest.digest()


class _Postings:
    """What the index keeps of each document while reading: its id, time, bag and groups, in
    flat arrays (ids in 'U' chunks; a distinct set of groups is stored once)."""

    def __init__(self) -> None:
        self._ids = StringColumn()
        self._published = array("d")
        self._bags = array("i")
        self._groups = array("i")
        self._group_sets: dict[tuple[str, ...], int] = {}

    def __len__(self) -> int:
        return len(self._bags)

    def add(self, doc: IndexDocument, bag: int) -> None:
        self._ids.append(doc.id)
        self._published.append(_as_utc(doc.published_at).timestamp())
        self._bags.append(bag)
        groups = tuple(doc.industries)
        self._groups.append(self._group_sets.setdefault(groups, len(self._group_sets)))

    def ids(self) -> np.ndarray:
        return self._ids.array()

    def published(self) -> np.ndarray:
        return np.frombuffer(self._published, np.float64) if self else np.empty(0)

    def bags(self) -> np.ndarray:
        return np.frombuffer(self._bags, np.int32) if self else np.empty(0, np.int32)

    def industry_rows(self, recent: np.ndarray) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """Sorted industries, the posting of every (industry, posting) row — industry-major,
        postings in ``recent`` order — and where each industry's rows start."""
        sets = list(self._group_sets)
        industries = tuple(sorted({g for groups in sets for g in groups}))
        position = {name: i for i, name in enumerate(industries)}
        member = np.zeros((len(industries), len(sets)), dtype=bool)
        for k, groups in enumerate(sets):
            member[[position[g] for g in set(groups)], k] = True
        groups_by_posting = (
            np.frombuffer(self._groups, np.int32)[recent] if self else np.empty(0, np.int32)
        )
        members = [np.flatnonzero(member[i][groups_by_posting]) for i in range(len(industries))]
        vacancy = np.concatenate(members).astype(np.int32) if members else np.empty(0, np.int32)
        industry_start = np.zeros(len(industries) + 1, dtype=np.int64)
        np.cumsum([len(m) for m in members], out=industry_start[1:])
        return industries, vacancy, industry_start


def _row_chunks(indptr: np.ndarray) -> Iterator[tuple[int, int]]:
    """Ranges ``first:last`` of whole rows (row r spans ``indptr[r]:indptr[r + 1]``) of at
    most ``_FILL_ENTRIES`` entries, or one row: what per-entry temporaries work on."""
    rows, first = len(indptr) - 1, 0
    while first < rows:
        last = int(np.searchsorted(indptr, indptr[first] + _FILL_ENTRIES, side="right")) - 1
        last = min(max(last, first + 1), rows)
        yield first, last
        first = last


def _counted_by_use(
    values: np.ndarray, indptr: np.ndarray, uses: np.ndarray, size: int
) -> np.ndarray:
    """How often each of ``range(size)`` occurs in the rows of ``values``, row r counting
    ``uses[r]`` times (the postings sharing text r): a chunk of rows at a time."""
    out = np.zeros(size, dtype=np.int64)
    for first, last in _row_chunks(indptr):
        weights = np.repeat(uses[first:last], np.diff(indptr[first : last + 1]))
        found = np.bincount(values[indptr[first] : indptr[last]], weights=weights, minlength=size)
        out += np.rint(found).astype(np.int64)  # whole numbers, exact in float64
    return out


def _text_rows(
    terms: np.ndarray,
    counts: np.ndarray,
    titled: np.ndarray,
    bag_indptr: np.ndarray,
    column: np.ndarray,
    idf_all: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each bag's row over the kept columns: (where each bag starts, columns, float32
    weights, whether each term is in the title as uint8), a chunk of whole bags at a time
    (the float64 arithmetic needs ~40 bytes an entry). Each entry's arithmetic is the same
    whether its text came once or many times, so a posting's row does not depend on how the
    texts were chunked or shared."""
    n_bags = len(bag_indptr) - 1
    kept_per_bag = np.zeros(n_bags, dtype=np.int64)
    for first, last in _row_chunks(bag_indptr):
        kept = column[terms[bag_indptr[first] : bag_indptr[last]]] >= 0
        entries = np.repeat(np.arange(first, last), np.diff(bag_indptr[first : last + 1]))
        kept_per_bag[first:last] = np.bincount(entries[kept] - first, minlength=last - first)
    indptr = np.zeros(n_bags + 1, dtype=np.int64)
    np.cumsum(kept_per_bag, out=indptr[1:])
    cols = np.empty(int(indptr[-1]), dtype=np.int32)  # written in place: no second copy
    weights = np.empty(int(indptr[-1]), dtype=_DTYPE)
    in_title = np.empty(int(indptr[-1]), dtype=np.uint8)
    for first, last in _row_chunks(bag_indptr):
        lo, hi = bag_indptr[first], bag_indptr[last]
        bag_of_entry = np.repeat(np.arange(last - first), np.diff(bag_indptr[first : last + 1]))
        keep = column[terms[lo:hi]] >= 0
        bag_of_entry, old_cols = bag_of_entry[keep], terms[lo:hi][keep]
        data = (1.0 + np.log(counts[lo:hi][keep])) * idf_all[old_cols]
        norms = np.sqrt(np.bincount(bag_of_entry, weights=data**2, minlength=last - first))
        norms[norms == 0] = 1.0
        out = slice(indptr[first], indptr[last])
        weights[out] = data / norms[bag_of_entry]
        cols[out] = column[old_cols]
        in_title[out] = titled[lo:hi][keep]
    return indptr, cols, weights, in_title


def _posting_matrix(
    bag_of_posting: np.ndarray,
    row_indptr: np.ndarray,
    row_cols: np.ndarray,
    row_weights: np.ndarray,
    row_in_title: np.ndarray,
    *,
    n_terms: int,
) -> tuple[sparse.csc_matrix, np.ndarray]:
    """The CSC matrix whose row p is the row of posting p's bag, filled in place a chunk of
    postings at a time (a counting sort by column): no whole-matrix copy in COO form, whose
    conversion cost several times the matrix itself at a million postings. Beside it, the
    uint8 array parallel to its data saying which entries are title words."""
    n = len(bag_of_posting)
    lengths = np.diff(row_indptr)
    uses = np.bincount(bag_of_posting, minlength=len(lengths))
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(_counted_by_use(row_cols, row_indptr, uses, n_terms), out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    data = np.empty(int(indptr[-1]), dtype=_DTYPE)
    in_title = np.empty(int(indptr[-1]), dtype=np.uint8)
    filled = indptr[:-1].copy()  # next free slot of every column
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths[bag_of_posting], out=offsets[1:])
    for start, stop in _row_chunks(offsets):
        bags = bag_of_posting[start:stop]
        entry = _entries(row_indptr[bags], lengths[bags])
        cols = row_cols[entry]
        order = np.argsort(cols, kind="stable")  # by column, postings ascending within
        per_col = np.bincount(cols, minlength=n_terms)
        first = np.cumsum(per_col) - per_col
        cols = cols[order]
        slot = filled[cols] + (np.arange(len(cols)) - first[cols])
        posting = np.repeat(np.arange(start, stop, dtype=np.int32), lengths[bags])
        indices[slot] = posting[order]
        data[slot] = row_weights[entry[order]]
        in_title[slot] = row_in_title[entry[order]]
        filled += per_col
    matrix = sparse.csc_matrix((data, indices, indptr), shape=(n, n_terms), dtype=_DTYPE)
    return matrix, in_title


def _entries(first: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``first[i] .. first[i] + lengths[i]`` of every i, concatenated."""
    starts = np.cumsum(lengths) - lengths
    within = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
    entries: np.ndarray = np.repeat(first, lengths) + within
    return entries
