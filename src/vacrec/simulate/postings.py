"""The catalog as the simulator sees it: postings, their industries and their TF-IDF vectors.

A posting is known by its *number*, the position of its id in
``snapshot.index.ids``. The simulator asks two things of the catalog beyond
what the service shows: which served industries a posting belongs to (a seeker
only wants a posting the service can show), and how alike two postings are —
the cosine of their L2-normalised TF-IDF rows of ``snapshot.index.matrix``, in
the very space the service ranks with. Only the index's public reading API is
used, so how the index lays out its rows is its own business.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from vacrec.ranking.snapshot import CatalogSnapshot

_DENSE_CELLS = 1 << 22
"""Cosines of wanted postings against the whole catalog are computed this many at a time."""


class Postings:
    """Per-posting view of one snapshot, built once per environment."""

    def __init__(self, snapshot: CatalogSnapshot) -> None:
        index = snapshot.index
        self.ids: np.ndarray = index.ids
        self.number_of: dict[str, int] = {str(vid): n for n, vid in enumerate(index.ids)}
        """Vacancy id → posting number."""
        in_served = np.zeros(len(index.ids), dtype=bool)
        for industry in snapshot.actions:
            size = index.size(industry)
            if size:  # an empty text ranks nothing: all ``size`` postings, most recent first
                for vid, _ in index.top_k(industry, "", size).items:
                    in_served[self.number_of[vid]] = True
        self.served = np.flatnonzero(in_served).astype(np.int64)
        """Postings of at least one served industry: the ones a seeker can want."""
        self.vectors: sparse.csr_matrix = sparse.csr_matrix(index.matrix, dtype=np.float64)
        """One L2-normalised TF-IDF row per posting, by number."""
        self._columns: sparse.csr_matrix = sparse.csr_matrix(self.vectors.T)
        """``vectors.T`` laid out once: the product with a transpose otherwise re-lays the
        whole catalog on every call (most of a simulated vote's time), the same numbers."""

    def cosines(self, wants: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """Cosine between each seeker's wanted posting (``wants`` [n]) and the postings
        ``numbers`` ([n, ...], −1 = no card, cosine 0): float64 [n, ...] in [0, 1]."""
        wants = np.asarray(wants, dtype=np.int64)
        numbers = np.asarray(numbers, dtype=np.int64)
        out = np.zeros(numbers.shape, dtype=np.float64)
        if not numbers.size:
            return out
        distinct, which = np.unique(wants, return_inverse=True)
        safe = np.where(numbers >= 0, numbers, 0)
        chunk = max(1, _DENSE_CELLS // max(self.vectors.shape[0], 1))
        for start in range(0, len(distinct), chunk):
            block = (self.vectors[distinct[start : start + chunk]] @ self._columns).toarray()
            members = np.flatnonzero((which >= start) & (which < start + chunk))
            at = (which[members] - start).reshape((-1,) + (1,) * (numbers.ndim - 1))
            out[members] = block[at, safe[members]]
        out[numbers < 0] = 0.0
        return np.clip(out, 0.0, 1.0)
