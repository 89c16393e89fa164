"""How good is a policy on the simulator? Exact expected rewards, no sampling noise.

For a fixed sample of simulated users we compare the greedy policy's expected
reward with a uniformly random policy and with the oracle; *gap closed* =
(policy − random) / (oracle − random): 0 is no better than random, 1 is perfect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from vacrec.simulate.env import JobSeekerEnv

GreedyFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SimulatorScore:
    """Mean expected reward per request of a policy, random and the oracle."""

    policy: float
    random: float
    oracle: float
    gap_closed: float
    users: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def evaluate_on_simulator(
    env: JobSeekerEnv, greedy: GreedyFn, users: int = 5_000, seed: int = 12_345
) -> SimulatorScore:
    """Score ``greedy`` (ages, skill indices → action indices) on ``users`` simulated users."""
    rng = np.random.default_rng(seed)
    ages, skills_idx = env.sample_users(users, rng)
    expected = env.expected_rewards(ages, skills_idx)
    chosen = np.asarray(greedy(ages, skills_idx), dtype=np.int64)
    policy = float(expected[np.arange(users), chosen].mean())
    random = float(expected.mean())
    oracle = float(expected.max(axis=1).mean())
    gap = (policy - random) / (oracle - random) if oracle > random else 0.0
    return SimulatorScore(policy, random, oracle, gap, users)
