"""Off-policy evaluation of stored policies on the logged transitions.

Binds the estimators in :mod:`vacrec.evaluation.ope` to a log: keeps the rows
with a known propensity (legacy rows have none), fits the direct-method reward
model once, and turns Q-models and baselines into probability matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vacrec.agent.context import Contexts
from vacrec.agent.model_meta import Estimate
from vacrec.agent.policy import Policy, greedy, policy_matrix
from vacrec.agent.transitions import Transitions
from vacrec.evaluation.ope import (
    LoggedData,
    compare,
    evaluate,
    most_popular_action,
    reward_table,
    uniform_policy,
)


@dataclass
class OfflineEvaluator:
    """Everything OPE needs about one log, computed once."""

    data: LoggedData
    states: Contexts
    q_hat: np.ndarray  # [n, n_actions] direct-method reward estimates
    n_actions: int
    n_boot: int = 500
    seed: int = 0

    @classmethod
    def from_transitions(
        cls,
        transitions: Transitions,
        n_boot: int = 500,
        seed: int = 0,
    ) -> OfflineEvaluator:
        """Use the rows logged with a propensity; raises ValueError when there are none."""
        t = transitions.subset(transitions.known_propensity)
        if len(t) == 0:
            raise ValueError("no logged events with propensities to evaluate on")
        states = t.states()
        n_actions = len(states.actions)
        data = LoggedData(t.actions, t.rewards.astype(np.float64), t.propensities)
        names = sorted(set(states.skills))
        skill_of = {name: i for i, name in enumerate(names)}
        skills_idx = np.asarray([skill_of[s] for s in states.skills], dtype=np.int64)
        table = reward_table(skills_idx, t.actions, data.rewards, len(names), n_actions)
        return cls(data, states, table[skills_idx], n_actions, n_boot, seed)

    def __len__(self) -> int:
        return len(self.data)

    def greedy(self, policy: Policy, epsilon: float = 0.0) -> np.ndarray:
        """The policy's (ε-)greedy choice on the logged states, as a probability matrix."""
        return policy_matrix(greedy(policy, self.states), self.n_actions, epsilon)

    def uniform(self) -> np.ndarray:
        return uniform_policy(len(self.data), self.n_actions)

    def most_popular(self) -> tuple[int, np.ndarray]:
        """The single best-rated industry for everyone, and its policy matrix."""
        action = most_popular_action(self.data, self.n_actions)
        return action, policy_matrix(np.full(len(self.data), action), self.n_actions)

    def estimate(self, pi: np.ndarray) -> dict[str, Estimate]:
        return evaluate(self.data, pi, self.q_hat, n_boot=self.n_boot, seed=self.seed)

    def difference(self, pi_candidate: np.ndarray, pi_baseline: np.ndarray) -> Estimate:
        """Paired-bootstrap DR difference candidate − baseline."""
        return compare(
            self.data, pi_candidate, pi_baseline, self.q_hat, self.n_boot, seed=self.seed
        )


def as_dicts(estimates: dict[str, Estimate]) -> dict[str, dict[str, float | int | None]]:
    return {name: est.to_dict() for name, est in estimates.items()}
