"""Serving policy: a loaded Q-model and ε-greedy choice with the propensity to log.

Every served action carries the probability with which it was chosen, so the
logs support unbiased off-policy evaluation later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vacrec.agent.encoding import ENCODING_VERSION, encode_states
from vacrec.agent.network import QNetwork
from vacrec.agent.skills import skill_index


class QModel:
    """A trained Q-network bound to the action list and skill vocabulary it was trained on."""

    def __init__(
        self,
        network: QNetwork,
        actions: Sequence[str],
        skills: Sequence[str],
        version: int = 0,
        encoding_version: int = ENCODING_VERSION,
    ) -> None:
        if network.n_actions != len(actions):
            raise ValueError(f"network has {network.n_actions} outputs for {len(actions)} actions")
        self.network = network.eval()
        self.actions = tuple(actions)
        self.skills = tuple(skills)
        self.version = int(version)
        self.encoding_version = encoding_version
        self._skill_of = skill_index(self.skills)

    def skill_idx(self, skill: str) -> int:
        """Index of ``skill`` (case-insensitive); KeyError names an unknown skill."""
        try:
            return self._skill_of[skill.casefold()]
        except KeyError:
            raise KeyError(f"unknown skill: {skill!r}") from None

    def q_values(self, age: int, skill: str) -> np.ndarray:
        """Q-values of every action for one user: shape [n_actions]."""
        return self.q_values_batch(np.array([age]), np.array([self.skill_idx(skill)]))[0]

    def q_values_batch(self, ages: np.ndarray, skills_idx: np.ndarray) -> np.ndarray:
        """Q-values for many users at once: shape [n, n_actions]."""
        states = torch.from_numpy(encode_states(ages, skills_idx, len(self.skills)))
        with torch.no_grad():
            return self.network(states).numpy().astype(np.float64)

    def greedy_batch(self, ages: np.ndarray, skills_idx: np.ndarray) -> np.ndarray:
        """Greedy action index per user."""
        return self.q_values_batch(ages, skills_idx).argmax(axis=1)


@dataclass(frozen=True)
class Decision:
    """The served action, the probability it had, and the greedy action it came from."""

    action: int
    propensity: float
    greedy: int | None
    q_values: np.ndarray | None


def epsilon_greedy(
    q_values: np.ndarray | None,
    n_actions: int,
    epsilon: float,
    rng: np.random.Generator,
    explore: bool = True,
) -> Decision:
    """Greedy with probability 1 − ε, else uniform; no model → uniform (propensity 1/N);
    ``explore=False`` → greedy with propensity 1."""
    if n_actions < 1:
        raise ValueError("there are no actions to choose from")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError("epsilon must be in [0, 1]")
    if q_values is None:
        return Decision(int(rng.integers(n_actions)), 1.0 / n_actions, None, None)
    q = np.asarray(q_values, dtype=np.float64)
    if q.shape != (n_actions,):
        raise ValueError(f"q_values has shape {q.shape}, expected ({n_actions},)")
    greedy = int(np.argmax(q))
    if not explore:
        return Decision(greedy, 1.0, greedy, q)
    action = int(rng.integers(n_actions)) if rng.random() < epsilon else greedy
    propensity = epsilon / n_actions + (1.0 - epsilon if action == greedy else 0.0)
    return Decision(action, propensity, greedy, q)


def policy_matrix(greedy: np.ndarray, n_actions: int, epsilon: float = 0.0) -> np.ndarray:
    """Action probabilities [n, n_actions] of ε-greedy around ``greedy`` (ε = 0: deterministic)."""
    greedy = np.asarray(greedy, dtype=np.int64)
    probs = np.full((greedy.shape[0], n_actions), epsilon / n_actions)
    probs[np.arange(greedy.shape[0]), greedy] += 1.0 - epsilon
    return probs
