"""A little logged randomisation of the cards, with exact per-card position propensities.

With probability ``q`` one adjacent pair of the ranker's candidates, chosen uniformly among
the ``P = min(k, m − 1)`` pairs that touch a shown position (``m`` candidates: the k cards
and, when there is one, the next candidate, which a swap of the last pair brings in), trades
places; otherwise the ranker's order is served. The outcomes are few (P + 1), so the
probability that the ranker's r-th candidate lands at position j is computed exactly by
enumerating them — the propensity an item-position estimator
(:mod:`vacrec.evaluation.card_ope`) divides by.
"""

from __future__ import annotations

import numpy as np


def swap_outcomes(m: int, k: int, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Every order that can be served and its probability: (orders [P + 1, min(k, m)] of
    candidate ranks, probabilities [P + 1]); outcome 0 is the ranker's own order."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
    shown = min(k, m)
    pairs = min(k, m - 1) if m > 1 else 0
    identity = np.arange(m)
    orders = [identity[:shown]]
    probabilities = [1.0 - q if pairs else 1.0]
    for i in range(pairs):
        swapped = identity.copy()
        swapped[[i, i + 1]] = swapped[[i + 1, i]]
        orders.append(swapped[:shown])
        probabilities.append(q / pairs)
    return np.asarray(orders, dtype=np.int64), np.asarray(probabilities)


def position_propensities(m: int, k: int, q: float) -> np.ndarray:
    """P(the ranker's r-th candidate is served at position j): float64 [m, min(k, m)]."""
    orders, probabilities = swap_outcomes(m, k, q)
    out = np.zeros((m, orders.shape[1]))
    for order, p in zip(orders, probabilities, strict=True):
        out[order, np.arange(len(order))] += p
    return out


def draw_cards(
    m: int, k: int, q: float, rng: np.random.Generator | float
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the served order with ``rng`` (or a uniform number in [0, 1) drawn elsewhere):
    (candidate ranks shown [min(k, m)], each one's propensity of the position it is shown at)."""
    orders, probabilities = swap_outcomes(m, k, q)
    u = rng if isinstance(rng, float) else float(rng.random())
    outcome = min(int(np.searchsorted(np.cumsum(probabilities), u, side="right")), len(orders) - 1)
    order = orders[outcome]
    return order, position_propensities(m, k, q)[order, np.arange(len(order))]
