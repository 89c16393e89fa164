"""Off-policy value of a card ranker from logged per-card votes: item-position IPS (IIPS).

Each logged event showed cards at positions 0..k−1, each with the exact propensity μ of
being at that position (:mod:`vacrec.ranking.card_swap`), and each card got a vote. Under the
item-position model — a card's expected vote depends on the card and its position, not on
the other cards — the value of a target ranker (the expected sum of votes over its cards) is

    V̂ = (1/N) Σ_events Σ_j vote_j · π(card_j at j) / μ_j,

unbiased whenever μ > 0 wherever the target puts a card (its *support*; with adjacent swaps a
target that moves a card by more than one place has none, and :func:`iips` reports the share of
the target's cards without it). The interval is a percentile bootstrap over events (weights
are at most 1/min μ, so the tails are bounded; the bootstrap shows their spread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vacrec.evaluation.ope import _bootstrap_sums, _interval


@dataclass(frozen=True)
class CardEstimate:
    """IIPS value of a ranker (sum of votes per event) with a bootstrap interval."""

    value: float
    low: float
    high: float
    n: int
    unsupported: float  # share of the target's (event, position) cards the log cannot see

    def to_dict(self) -> dict[str, float | int]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "unsupported": self.unsupported,
        }


def target_matches(shown: Sequence[Sequence[str]], target: Sequence[Sequence[str]]) -> np.ndarray:
    """π(card_j at j) of a deterministic target ranking: 1 where the target puts the logged
    card at the same position, else 0 ([N, k]; positions past a short list are 0)."""
    k = max((len(s) for s in shown), default=0)
    out = np.zeros((len(shown), k))
    for i, (logged, wanted) in enumerate(zip(shown, target, strict=True)):
        for j, vid in enumerate(logged):
            out[i, j] = float(j < len(wanted) and wanted[j] == vid)
    return out


def iips(
    votes: np.ndarray,
    propensities: np.ndarray,
    target: np.ndarray,
    support: np.ndarray | None = None,
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> CardEstimate:
    """IIPS of a target ranker. ``votes``, ``propensities`` and ``target`` (π of the logged
    card at its position) are [N, k], 0 where no card was shown; ``support`` [N, k] (optional)
    marks the target's own cards the logging policy could have shown there (for
    ``unsupported``)."""
    votes, mu, pi = (np.asarray(a, np.float64) for a in (votes, propensities, target))
    if not votes.shape == mu.shape == pi.shape:
        raise ValueError("votes, propensities and target must have the same shape [N, k]")
    if not len(votes):
        raise ValueError("no logged events to evaluate on")
    if np.any((pi > 0) & ~(mu > 0)):
        raise ValueError("a logged card the target keeps has no positive propensity")
    weights = np.divide(pi, mu, out=np.zeros_like(pi), where=mu > 0)
    per_event = (votes * weights).sum(axis=1)
    (sums,) = _bootstrap_sums([per_event], n_boot, np.random.default_rng(seed))
    low, high = _interval(sums / len(per_event), alpha)
    unsupported = 0.0 if support is None else float(1.0 - np.asarray(support, bool).mean())
    return CardEstimate(float(per_event.mean()), low, high, len(per_event), unsupported)
