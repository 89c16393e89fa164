"""What the logs may teach, and when they look steered.

The agent learns from whatever clients send, so the rows it trains and is judged
on are chosen with an adversary in mind:

* :func:`cap_client_share` keeps any one client identity to a stated share of
  the rows (a seeded sample of its rows when it sent more), so one address that
  rates thousands of times weighs like a handful of seekers;
* :func:`holdout_mask` holds out a seeded sample of each logged action's rows,
  spread over time and clients, not the newest rows, which after a flood would
  be the flood's own;
* :func:`reward_drift` compares the rewards logged since the last model with
  those before: a sharp, significant change is what a coordinated flood from
  many identities (each within its budget) looks like, and the promotion rule
  then waits for an operator instead of trusting the estimate.

Pure functions over arrays: the application layer reads the rows and decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency

REWARD_DECIMALS = 3
"""Rewards are tanh(R) of an integer R: rounding keeps one category per R that tanh tells apart."""
DRIFT_MIN_ROWS = 30
"""Fewer rows on either side than this and the reward distributions are not compared."""
DRIFT_P_VALUE = 1e-3
"""A distance counts only when a chi-squared test calls it this unlikely by chance."""


def client_cap(counts: np.ndarray, unknown: int, share: float, floor: int) -> int | None:
    """The most rows any one identity keeps, or None when nobody exceeds ``share``.

    The cap ``c`` is the largest with ``c ≤ share · (unknown + Σ min(nᵢ, c))``: a capped
    client is ``share`` of the rows *after* capping, not of a total its flood inflated.
    Every identity keeps at least ``floor`` rows.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0:
        return None

    def allowed(cap: int) -> float:
        return share * (unknown + int(np.minimum(counts, cap).sum()))

    top = int(counts.max())
    if top <= allowed(top):
        return None
    low, high = 0, top  # allowed(low) ≥ low holds at 0; find the largest such integer
    while low < high:
        mid = (low + high + 1) // 2
        if mid <= allowed(mid):
            low = mid
        else:
            high = mid - 1
    return max(floor, low)


def cap_client_share(
    clients: np.ndarray, share: float, floor: int, rng: np.random.Generator
) -> np.ndarray:
    """A mask keeping at most :func:`client_cap` rows of each identity (a seeded sample of
    its rows, spread over its whole history). ``clients`` holds one code per row, −1 for
    rows of no known identity, which are kept (each is its own seeker)."""
    clients = np.asarray(clients, dtype=np.int64)
    keep = np.ones(clients.shape[0], dtype=bool)
    known = clients >= 0
    if not known.any():
        return keep
    codes, counts = np.unique(clients[known], return_counts=True)
    cap = client_cap(counts, int((~known).sum()), share, floor)
    if cap is None:
        return keep
    for code in codes[counts > cap]:
        rows = np.flatnonzero(clients == code)
        dropped = rng.choice(rows, size=rows.size - cap, replace=False)
        keep[dropped] = False
    return keep


def holdout_mask(strata: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """True for the rows held out: a seeded ``share`` of each stratum's rows (e.g. of each
    logged action, so a rarely explored industry is still judged), drawn across the whole
    log rather than its newest end."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"share must be in [0, 1), got {share}")
    strata = np.asarray(strata)
    held = np.zeros(strata.shape[0], dtype=bool)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        held[rng.choice(rows, size=round(share * rows.size), replace=False)] = True
    return held


@dataclass(frozen=True)
class RewardDrift:
    """How far the recent rewards' distribution is from the past's.

    ``distance``: total variation between the two distributions over reward values
    (0 same, 1 disjoint); ``p_value``: chi-squared test of the two samples.
    """

    distance: float
    p_value: float
    recent: int
    past: int

    def departs(self, threshold: float) -> bool:
        """True when the change is both large and not chance."""
        return self.distance > threshold and self.p_value < DRIFT_P_VALUE

    def describe(self) -> str:
        return (
            f"rewards of the {self.recent} newest events differ from the {self.past} before "
            f"(total variation {self.distance:.2f}, p={self.p_value:.1g})"
        )

    def to_dict(self) -> dict[str, float | int]:
        return {
            "distance": round(self.distance, 4),
            "p_value": float(f"{self.p_value:.3g}"),
            "recent": self.recent,
            "past": self.past,
        }


def reward_drift(past: np.ndarray, recent: np.ndarray) -> RewardDrift | None:
    """Compare two samples of rewards; None when either is too small to say."""
    if len(past) < DRIFT_MIN_ROWS or len(recent) < DRIFT_MIN_ROWS:
        return None
    past_values = np.round(np.asarray(past, dtype=np.float64), REWARD_DECIMALS)
    recent_values = np.round(np.asarray(recent, dtype=np.float64), REWARD_DECIMALS)
    values = np.union1d(past_values, recent_values)
    table = np.stack(
        [
            np.bincount(np.searchsorted(values, past_values), minlength=values.size),
            np.bincount(np.searchsorted(values, recent_values), minlength=values.size),
        ]
    ).astype(np.float64)
    shares = table / table.sum(axis=1, keepdims=True)
    distance = 0.5 * float(np.abs(shares[0] - shares[1]).sum())
    one_value = values.size < 2  # the same single reward on both sides: nothing to test
    p_value = 1.0 if one_value else float(chi2_contingency(table, correction=False).pvalue)
    return RewardDrift(distance, p_value, recent=len(recent), past=len(past))
