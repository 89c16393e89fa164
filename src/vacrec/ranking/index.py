"""Per-industry TF-IDF index, built once per catalog version and only read per request.

The original service fitted a ``TfidfVectorizer`` on an industry's postings for
every request. Here each industry group keeps its own TF-IDF space (the same
maths: raw term counts, smoothed idf ``ln((1 + n) / (1 + df)) + 1``, rows
L2-normalised) computed once. A request normalises the preference, maps its
stems to the industry's columns and walks only those columns of a CSC matrix
(an inverted-index dot product), so its cost follows the postings of the
preference's terms rather than the size of the catalog; ``np.argpartition``
picks the top k.

Every description is normalised once per build (identical descriptions, which
hh.ru catalogs repeat, share the work), then each industry assembles its
matrix with vectorised numpy. Nothing is cached per request, so memory does
not grow with traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from scipy import sparse

from vacrec.catalog.text import normalise

_DTYPE = np.float32
_MIN_TIME = datetime.min.replace(tzinfo=UTC)
# Above this share of an industry's rows touched, a dense accumulator beats sorting.
_DENSE_SHARE = 0.125


@dataclass(frozen=True)
class Ranked:
    """Ranked vacancy ids with their cosine scores.

    ``fallback`` is True when the preference shared no term with the
    industry's postings; the items are then the most recent first (published
    time descending, then id) with score 0.0.
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


def _as_utc(moment: datetime | None) -> datetime:
    if moment is None:
        return _MIN_TIME
    # SQLite hands back naive datetimes; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _IndustryIndex:
    """One industry's TF-IDF space: a CSC matrix (rows = vacancies, columns = stems)."""

    __slots__ = ("idf", "ids", "matrix", "rank", "recent", "terms")

    def __init__(
        self,
        ids: np.ndarray,
        terms: np.ndarray,
        idf: np.ndarray,
        matrix: sparse.csc_matrix,
        recent: np.ndarray,
    ) -> None:
        self.ids = ids  # row -> vacancy id (object array of str)
        self.terms = terms  # sorted global term ids that occur in this industry
        self.idf = idf  # column -> idf
        self.matrix = matrix
        self.recent = recent  # rows, most recent first
        self.rank = np.empty_like(recent)  # row -> position in ``recent``: the tie-break
        self.rank[recent] = np.arange(len(recent), dtype=recent.dtype)

    @property
    def nbytes(self) -> int:
        m = self.matrix
        arrays = (m.data, m.indices, m.indptr, self.terms, self.idf, self.recent, self.rank)
        return int(sum(a.nbytes for a in arrays) + self.ids.nbytes)

    def query(self, term_ids: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows with a positive cosine and their scores, for a bag of global term ids."""
        if not len(self.terms):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=_DTYPE)
        pos = np.searchsorted(self.terms, term_ids)
        pos = np.minimum(pos, len(self.terms) - 1)
        known = self.terms[pos] == term_ids
        if not known.any():
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=_DTYPE)
        cols = pos[known]
        weights = counts[known] * self.idf[cols]
        weights /= np.sqrt(np.dot(weights, weights))

        indptr, indices, data = self.matrix.indptr, self.matrix.indices, self.matrix.data
        spans = [(indptr[c], indptr[c + 1]) for c in cols]
        rows = np.concatenate([indices[s:e] for s, e in spans])
        values = np.concatenate([data[s:e] * w for (s, e), w in zip(spans, weights, strict=True)])
        n_rows = len(self.ids)
        if len(rows) > _DENSE_SHARE * n_rows:
            dense = np.bincount(rows, weights=values, minlength=n_rows)
            hit = np.flatnonzero(dense)
            return hit, dense[hit]
        hit, inverse = np.unique(rows, return_inverse=True)
        return hit, np.bincount(inverse, weights=values)

    def top(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k best rows by score (ties: most recent first), padded with recent rows."""
        if len(rows) > k:
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            keep = scores >= kth  # keeps every row tied with the k-th, for a stable tie-break
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((self.rank[rows], -scores))[:k]
        best = zip(rows[order], scores[order], strict=True)
        items = [(str(self.ids[r]), min(1.0, float(s))) for r, s in best]
        if len(items) < k:
            chosen = set(rows[order].tolist())
            for row in self.recent[: k + len(chosen)]:
                if len(items) == k:
                    break
                if int(row) not in chosen:
                    items.append((str(self.ids[row]), 0.0))
        return items

    def most_recent(self, k: int) -> list[tuple[str, float]]:
        return [(str(self.ids[row]), 0.0) for row in self.recent[:k]]


class TfidfIndex:
    """TF-IDF spaces of every industry group, queried by :meth:`top_k`."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        industries: dict[str, _IndustryIndex],
        analyzer: Callable[[str], list[str]] = normalise,
    ) -> None:
        self._vocabulary = vocabulary
        self._industries = industries
        self._analyzer = analyzer

    @classmethod
    def build(
        cls,
        documents: Iterable[IndexDocument],
        analyzer: Callable[[str], list[str]] = normalise,
    ) -> TfidfIndex:
        """Normalise every description once and assemble each industry's matrix."""
        vocabulary: dict[str, int] = {}
        bags: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # description -> (term ids, counts)
        members: dict[str, list[tuple[IndexDocument, tuple[np.ndarray, np.ndarray]]]] = {}
        for doc in documents:
            bag = bags.get(doc.description)
            if bag is None:
                ids = [vocabulary.setdefault(t, len(vocabulary)) for t in analyzer(doc.description)]
                terms, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
                bag = bags[doc.description] = (terms, counts.astype(_DTYPE))
            for industry in doc.industries:
                members.setdefault(industry, []).append((doc, bag))
        return cls(
            vocabulary,
            {name: _build_industry(rows) for name, rows in members.items()},
            analyzer,
        )

    @property
    def industries(self) -> tuple[str, ...]:
        return tuple(sorted(self._industries))

    def size(self, industry: str) -> int:
        """How many vacancies the industry holds (0 when unknown)."""
        found = self._industries.get(industry)
        return 0 if found is None else len(found.ids)

    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays (the vocabulary dict not included)."""
        return sum(ind.nbytes for ind in self._industries.values())

    @property
    def vocabulary_size(self) -> int:
        return len(self._vocabulary)

    def top_k(self, industry: str, preference: str, k: int) -> Ranked:
        """The k vacancies of ``industry`` closest to ``preference`` by cosine similarity."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        found = self._industries.get(industry)
        if found is None:
            return Ranked(items=[], fallback=False)
        term_ids = [self._vocabulary.get(t) for t in self._analyzer(preference or "")]
        known = np.asarray([t for t in term_ids if t is not None], dtype=np.int64)
        if len(known):
            terms, counts = np.unique(known, return_counts=True)
            rows, scores = found.query(terms, counts.astype(np.float64))
            if len(rows):
                return Ranked(items=found.top(rows, scores, k), fallback=False)
        return Ranked(items=found.most_recent(k), fallback=True)


def _build_industry(
    rows: Sequence[tuple[IndexDocument, tuple[np.ndarray, np.ndarray]]],
) -> _IndustryIndex:
    n = len(rows)
    lengths = np.fromiter((len(bag[0]) for _, bag in rows), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    if indptr[-1]:
        global_terms = np.concatenate([bag[0] for _, bag in rows])
        counts = np.concatenate([bag[1] for _, bag in rows])
    else:
        global_terms = np.empty(0, dtype=np.int64)
        counts = np.empty(0, dtype=_DTYPE)
    terms, cols = np.unique(global_terms, return_inverse=True)
    df = np.bincount(cols, minlength=len(terms))
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(_DTYPE)
    data = counts * idf[cols]
    row_of = np.repeat(np.arange(n), lengths)
    norms = np.sqrt(np.bincount(row_of, weights=data.astype(np.float64) ** 2, minlength=n))
    norms[norms == 0] = 1.0
    data = (data / norms[row_of]).astype(_DTYPE)
    matrix = sparse.csr_matrix(
        (data, cols.astype(np.int32), indptr), shape=(n, len(terms)), dtype=_DTYPE
    ).tocsc()
    matrix.sort_indices()

    ids = np.empty(n, dtype=object)
    ids[:] = [doc.id for doc, _ in rows]
    # Most recent first, then id: sort by id, then stably by time descending.
    by_id = sorted(range(n), key=lambda i: rows[i][0].id)
    by_id.sort(key=lambda i: _as_utc(rows[i][0].published_at), reverse=True)
    recent = np.asarray(by_id, dtype=np.int64)
    return _IndustryIndex(ids=ids, terms=terms, idf=idf, matrix=matrix, recent=recent)
