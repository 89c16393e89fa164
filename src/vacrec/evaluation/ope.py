"""Off-policy estimators from logged propensities: IPS, SNIPS and doubly robust.

A target policy is given as a probability matrix ``pi[n, n_actions]`` over the
logged states (one-hot for a deterministic policy, ε-greedy otherwise). Each row
of the log contributes the importance weight w = π(a_i | s_i) / p_i, where p_i is
the propensity the server logged. Confidence intervals are percentile bootstrap
intervals over the logged rows (vectorised; paired when comparing two policies,
so both see the same resamples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vacrec.agent.model_meta import Estimate

ESTIMATORS = ("ips", "snips", "dr")


@dataclass(frozen=True)
class LoggedData:
    """The logged rows OPE needs: actions taken, their rewards and propensities."""

    actions: np.ndarray  # int [n]
    rewards: np.ndarray  # float [n]
    propensities: np.ndarray  # float [n], all known and > 0

    def __post_init__(self) -> None:
        n = self.actions.shape[0]
        if self.rewards.shape != (n,) or self.propensities.shape != (n,):
            raise ValueError("actions, rewards and propensities must be 1-D of equal length")
        if n and (not np.all(np.isfinite(self.propensities)) or self.propensities.min() <= 0):
            raise ValueError("propensities must be known and positive (drop legacy rows first)")

    def __len__(self) -> int:
        return int(self.actions.shape[0])


def _weights(data: LoggedData, pi: np.ndarray) -> np.ndarray:
    if pi.shape[0] != len(data):
        raise ValueError(f"policy has {pi.shape[0]} rows for {len(data)} logged rows")
    weights: np.ndarray = pi[np.arange(len(data)), data.actions] / data.propensities
    return weights


def _terms(
    data: LoggedData, pi: np.ndarray, q_hat: np.ndarray | None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-row (numerator, denominator) terms: each estimator is sum(num) / sum(den)."""
    w = _weights(data, pi)
    ones = np.ones_like(w)
    terms = {"ips": (w * data.rewards, ones), "snips": (w * data.rewards, w)}
    if q_hat is not None:
        rows = np.arange(len(data))
        direct = (pi * q_hat).sum(axis=1)
        terms["dr"] = (direct + w * (data.rewards - q_hat[rows, data.actions]), ones)
    return terms


def ips(data: LoggedData, pi: np.ndarray) -> float:
    """Inverse propensity scoring: mean of w·r (unbiased, high variance)."""
    return float((_weights(data, pi) * data.rewards).mean())


def snips(data: LoggedData, pi: np.ndarray) -> float:
    """Self-normalised IPS: Σ w·r / Σ w (slightly biased, much lower variance)."""
    w = _weights(data, pi)
    return float((w * data.rewards).sum() / w.sum()) if w.sum() > 0 else float("nan")


def doubly_robust(data: LoggedData, pi: np.ndarray, q_hat: np.ndarray) -> float:
    """DR: direct-method value plus the IPS-weighted residual of the reward model."""
    num, _ = _terms(data, pi, q_hat)["dr"]
    return float(num.mean())


def _bootstrap_sums(
    columns: list[np.ndarray], n_boot: int, rng: np.random.Generator, block: int = 4_000_000
) -> list[np.ndarray]:
    """Sums of each column over ``n_boot`` resamples of the rows (chunked to bound memory)."""
    n = columns[0].shape[0]
    per_chunk = max(1, block // max(n, 1))
    out = [np.empty(n_boot) for _ in columns]
    for start in range(0, n_boot, per_chunk):
        stop = min(n_boot, start + per_chunk)
        idx = rng.integers(n, size=(stop - start, n))
        for col, dest in zip(columns, out, strict=True):
            dest[start:stop] = col[idx].sum(axis=1)
    return out


def _interval(samples: np.ndarray, alpha: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def evaluate(
    data: LoggedData,
    pi: np.ndarray,
    q_hat: np.ndarray | None = None,
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Estimate]:
    """IPS, SNIPS (and DR when a reward model ``q_hat[n, n_actions]`` is given) with
    (1 − alpha) percentile-bootstrap intervals."""
    if len(data) == 0:
        raise ValueError("no logged rows with known propensities to evaluate on")
    terms = _terms(data, pi, q_hat)
    rng = np.random.default_rng(seed)
    names = list(terms)
    sums = _bootstrap_sums([c for name in names for c in terms[name]], n_boot, rng)
    out = {}
    for i, name in enumerate(names):
        num, den = terms[name]
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN: no support, see snips()
            boot = sums[2 * i] / sums[2 * i + 1]
            value = float(num.sum() / den.sum())
        low, high = _interval(boot, alpha)
        out[name] = Estimate(value=value, low=low, high=high, n=len(data))
    return out


def compare(
    data: LoggedData,
    pi_candidate: np.ndarray,
    pi_baseline: np.ndarray,
    q_hat: np.ndarray,
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> Estimate:
    """Paired bootstrap of DR(candidate) − DR(baseline): same resamples for both policies."""
    a, _ = _terms(data, pi_candidate, q_hat)["dr"]
    b, _ = _terms(data, pi_baseline, q_hat)["dr"]
    diff = a - b
    (sums,) = _bootstrap_sums([diff], n_boot, np.random.default_rng(seed))
    low, high = _interval(sums / len(data), alpha)
    return Estimate(value=float(diff.mean()), low=low, high=high, n=len(data))


def reward_table(
    skills_idx: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    n_skills: int,
    n_actions: int,
    prior: float = 5.0,
) -> np.ndarray:
    """Direct-method reward model: mean reward per (skill, action), shrunk towards the
    action's mean (itself shrunk towards the overall mean) — independent of the policies
    it helps evaluate. Shape [n_skills, n_actions]."""
    overall = float(rewards.mean()) if rewards.size else 0.0
    a_sum = np.bincount(actions, weights=rewards, minlength=n_actions)
    a_cnt = np.bincount(actions, minlength=n_actions)
    action_mean = (a_sum + prior * overall) / (a_cnt + prior)
    cell = skills_idx * n_actions + actions
    c_sum = np.bincount(cell, weights=rewards, minlength=n_skills * n_actions)
    c_cnt = np.bincount(cell, minlength=n_skills * n_actions)
    c_sum = c_sum.reshape(n_skills, n_actions)
    c_cnt = c_cnt.reshape(n_skills, n_actions)
    return (c_sum + prior * action_mean[None, :]) / (c_cnt + prior)


def most_popular_action(data: LoggedData, n_actions: int) -> int:
    """The industry with the best propensity-corrected mean logged reward (one for everyone)."""
    w = 1.0 / data.propensities
    num = np.bincount(data.actions, weights=w * data.rewards, minlength=n_actions)
    den = np.bincount(data.actions, weights=w, minlength=n_actions)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(den > 0, num / den, -np.inf)
    return int(np.argmax(mean))


def uniform_policy(n: int, n_actions: int) -> np.ndarray:
    """Probability matrix of the uniformly random policy."""
    return np.full((n, n_actions), 1.0 / n_actions)
