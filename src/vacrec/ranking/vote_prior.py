"""What per-card votes say about a vacancy, shrunk toward what a vacancy usually gets.

Seekers rate each card 👍/👎. For one vacancy and one seeker group (skill × age band) the
vote term is an empirical-Bayes estimate of how much better or worse its votes are than
the average card's, ``mean``:

- vacancy-wide: ``m_v = (up − down + prior_strength · mean) / (n + prior_strength)``;
- in the seeker's group: ``m_g = (up_g − down_g + group_strength · m_v) / (n_g + group_strength)``;
- term: ``weight · (m_g − mean)``.

A vacancy with one vote moves little (the prior's pseudo-votes outweigh it), fifty
consistent votes move it nearly all the way; a group that never rated it borrows the
vacancy-wide estimate, and a group's own votes override it as they accumulate. Cards within
the chosen industry are then ordered by text relevance (cosine) + term. With no votes the
term is zero everywhere and the order is exactly the text's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

AGE_BAND_EDGES = (30, 45)
"""Seekers under 30, 30–44 and 45 or older vote as three groups within a skill."""


def age_band(age: int) -> int:
    """The age band of a seeker (0, 1 or 2; see ``AGE_BAND_EDGES``)."""
    return int(np.searchsorted(AGE_BAND_EDGES, age, side="right"))


def group_key(skill: str, band: int) -> str:
    """The name of a seeker group: its skill and age band."""
    return f"{skill}\x1f{band}"


@dataclass(frozen=True)
class VotePrior:
    """How much votes move a card, in cosine units, and how much evidence that takes."""

    weight: float = 0.3
    prior_strength: float = 5.0
    group_strength: float = 5.0

    def __post_init__(self) -> None:
        if self.weight < 0 or self.prior_strength <= 0 or self.group_strength <= 0:
            raise ValueError("weight must be ≥ 0 and both strengths > 0")


def shrunk_mean(
    up: np.ndarray, down: np.ndarray, toward: np.ndarray | float, strength: float
) -> np.ndarray:
    """The mean vote (−1..1) of each item, pulled toward ``toward`` by ``strength`` pseudo-votes."""
    up, down = np.asarray(up, np.float64), np.asarray(down, np.float64)
    mean: np.ndarray = (up - down + strength * np.asarray(toward, np.float64)) / (
        up + down + strength
    )
    return mean


def vote_terms(
    up: np.ndarray,
    down: np.ndarray,
    group_up: np.ndarray,
    group_down: np.ndarray,
    mean: float,
    prior: VotePrior,
) -> np.ndarray:
    """The score each vacancy's votes add (see the module docstring): float64 [n]."""
    overall = shrunk_mean(up, down, mean, prior.prior_strength)
    group = shrunk_mean(group_up, group_down, overall, prior.group_strength)
    terms: np.ndarray = prior.weight * (group - mean)
    return terms


@dataclass(frozen=True)
class VoteTable:
    """Votes per vacancy and per (vacancy, group), as sorted arrays (no object per vacancy).

    ``ids`` sorted vacancy ids with their totals ``up``/``down``; ``keys`` sorted
    ``vacancy position · len(groups) + group position`` with ``group_up``/``group_down``;
    ``mean`` the average vote over every card rated.
    """

    ids: np.ndarray
    up: np.ndarray
    down: np.ndarray
    groups: tuple[str, ...]
    keys: np.ndarray
    group_up: np.ndarray
    group_down: np.ndarray
    mean: float

    @classmethod
    def empty(cls) -> VoteTable:
        none = np.zeros(0, np.int64)
        return cls(np.zeros(0, "U1"), none, none, (), none, none, none, 0.0)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[str, str, int, int]]) -> VoteTable:
        """From ``(vacancy_id, group, up, down)`` rows (one per vacancy and group)."""
        if not rows:
            return cls.empty()
        vids = np.asarray([r[0] for r in rows], dtype=str)
        groups = tuple(sorted({r[1] for r in rows}))
        position = {g: i for i, g in enumerate(groups)}
        gids = np.asarray([position[r[1]] for r in rows], dtype=np.int64)
        ups = np.asarray([r[2] for r in rows], dtype=np.int64)
        downs = np.asarray([r[3] for r in rows], dtype=np.int64)
        ids, which = np.unique(vids, return_inverse=True)
        keys = which.astype(np.int64) * len(groups) + gids
        order = np.argsort(keys, kind="stable")
        total = float(ups.sum() + downs.sum())
        return cls(
            ids=ids,
            up=np.bincount(which, weights=ups, minlength=len(ids)).astype(np.int64),
            down=np.bincount(which, weights=downs, minlength=len(ids)).astype(np.int64),
            groups=groups,
            keys=keys[order],
            group_up=ups[order],
            group_down=downs[order],
            mean=float(ups.sum() - downs.sum()) / total if total else 0.0,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def terms(self, vacancy_ids: Sequence[str], group: str, prior: VotePrior) -> np.ndarray:
        """The vote term of each of ``vacancy_ids`` for a seeker of ``group``: float64 [n];
        0 for a vacancy nobody rated."""
        n = len(vacancy_ids)
        if not len(self.ids) or not n:
            return np.zeros(n)
        wanted = np.asarray(vacancy_ids, dtype=str)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        known = self.ids[at] == wanted
        up = np.where(known, self.up[at], 0)
        down = np.where(known, self.down[at], 0)
        group_up, group_down = np.zeros(n, np.int64), np.zeros(n, np.int64)
        if group in self.groups:
            keys = at * len(self.groups) + self.groups.index(group)
            hit = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            found = known & (self.keys[hit] == keys)
            group_up = np.where(found, self.group_up[hit], 0)
            group_down = np.where(found, self.group_down[hit], 0)
        terms = vote_terms(up, down, group_up, group_down, self.mean, prior)
        return np.where(known, terms, 0.0)


def rerank(
    items: Sequence[tuple[str, float]], terms: np.ndarray, demoted: Collection[str], k: int
) -> list[tuple[str, float]]:
    """The ``k`` best of ``items`` (id, cosine) by cosine + vote term; ``demoted`` ids (shown
    before in the session) stay after the others, as the text ranking keeps them. Ties keep
    the text order, so all-zero terms return the first ``k`` unchanged."""
    key = np.asarray([s for _, s in items], np.float64) + np.asarray(terms, np.float64)
    late = np.asarray([vid in demoted for vid, _ in items], dtype=bool)
    order = np.lexsort((np.arange(len(items)), -key, late))[:k]
    return [items[i] for i in order]
