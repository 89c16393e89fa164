"""Off-the-shelf peers of vacrec's learner for `vacrec bench train`, behind one small interface.

A peer is fitted on the very same logged rows (:class:`Transitions`) the agent is trained on,
reading the features through the same context (:class:`Contexts`: the request's age and skill,
and every industry's content feature row), and yields a greedy policy that scores every
industry of every seeker — a :class:`vacrec.agent.policy.Policy`, so the simulator scores it
exactly as it scores vacrec's model. When the context gains or changes columns the peers see
them too: nothing here names a feature by hand.

The peers (Vowpal Wabbit, LightGBM) are the ``bench`` extra (``pip install 'vacrec[bench]'``),
never a run-time dependency: :func:`load_peers` says what is missing instead of failing.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vacrec.agent.context import CONTENT_FEATURES, Contexts, scale_age
from vacrec.agent.transitions import Transitions

PEERS: dict[str, tuple[str, str]] = {
    # name in the bench's JSON → (module under vacrec.benchmarks, the library it needs)
    "vw": ("peers_vw", "vowpalwabbit"),
    "lightgbm": ("peers_lgbm", "lightgbm"),
}
MISSING_HINT = "install the bench extra: pip install -e '.[bench]'"


class PeerPolicy:
    """A fitted peer as a :class:`~vacrec.agent.policy.Policy`: scores [n, n_actions]."""

    version: int | None = None

    def __init__(self, score: Callable[[Contexts], np.ndarray]) -> None:
        self._score = score

    def q_values(self, contexts: Contexts) -> np.ndarray:
        return np.asarray(self._score(contexts), dtype=np.float64)

    def uncertainty(self, contexts: Contexts) -> np.ndarray:
        """Peers are only scored greedily here; exploration never asks them."""
        return np.ones((len(contexts), len(contexts.actions)))


@dataclass(frozen=True)
class PeerFit:
    """A greedy policy and the wall time its fit took (building its inputs included)."""

    policy: PeerPolicy
    seconds: float
    detail: dict[str, float | int | str]


FitFn = Callable[[Transitions, int], PeerFit]
"""A peer: (logged rows, seed) → :class:`PeerFit`."""


def load_peers() -> tuple[dict[str, FitFn], dict[str, str]]:
    """({name: fit} of the peers whose library is installed, {name: why not} of the others)."""
    found: dict[str, FitFn] = {}
    missing: dict[str, str] = {}
    for name, (module, library) in PEERS.items():
        try:
            importlib.import_module(library)
        except ImportError:
            missing[name] = f"{library} is not installed ({MISSING_HINT})"
            continue
        found[name] = importlib.import_module(f"vacrec.benchmarks.{module}").fit
    return found, missing


def timed(fit: Callable[[], tuple[PeerPolicy, dict[str, float | int | str]]]) -> PeerFit:
    """Run ``fit`` and keep its wall time."""
    start = time.perf_counter()
    policy, detail = fit()
    return PeerFit(policy, time.perf_counter() - start, detail)


def content_names(contexts: Contexts) -> list[str]:
    """Names of the context's content columns (the context's own, or ``c<j>`` if it grew)."""
    width = contexts.content.shape[-1]
    if width == len(CONTENT_FEATURES):
        return list(CONTENT_FEATURES)
    return [f"c{j}" for j in range(width)]


def token(text: str) -> str:
    """``text`` as one whitespace- and separator-free feature name (VW's ``|`` and ``:``)."""
    return re.sub(r"[\s|:]+", "_", text.strip()) or "_"


def scaled_ages(contexts: Contexts) -> np.ndarray:
    """Ages in [0, 1], as the agent sees them."""
    return scale_age(contexts.ages).astype(np.float64)


def logged_propensities(transitions: Transitions) -> np.ndarray:
    """Each row's logging probability; unknown (legacy, NaN) as uniform, clipped away from 0."""
    p = np.asarray(transitions.propensities, dtype=np.float64).copy()
    p[np.isnan(p)] = 1.0 / len(transitions.contexts.actions)
    return np.clip(p, 1e-3, 1.0)
