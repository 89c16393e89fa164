"""How good is a policy on the simulator? Exact expected rewards, no sampling noise.

For a fixed sample of simulated seekers we compare the policy's expected
reward with a uniformly random policy and with the oracle; *gap closed* =
(policy − random) / (oracle − random): 0 is no better than random, 1 is perfect.
The expectations are exact (:meth:`JobSeekerEnv.expected_rewards`), so two
policies scored on the same seekers differ only by what they choose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from vacrec.agent.context import ContextEncoder
from vacrec.agent.policy import Policy, greedy
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.population import Seekers

ChooseFn = Callable[[Seekers], np.ndarray]
"""A policy: seekers → one industry index per seeker."""


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
    env: JobSeekerEnv, choose: ChooseFn, users: int = 5_000, seed: int = 12_345
) -> SimulatorScore:
    """Score ``choose`` on ``users`` simulated seekers drawn with ``seed``."""
    if users < 1:
        raise ValueError("users must be at least 1")
    seekers = env.sample_seekers(users, np.random.default_rng(seed))
    expected = env.expected_rewards(seekers)
    chosen = np.asarray(choose(seekers), dtype=np.int64).reshape(-1)
    if chosen.shape != (users,) or chosen.min() < 0 or chosen.max() >= len(env.actions):
        raise ValueError(
            f"choose must return one action index in [0, {len(env.actions)}) per seeker"
        )
    policy = float(expected[np.arange(users), chosen].mean())
    random = float(expected.mean())
    oracle = float(expected.max(axis=1).mean())
    gap = (policy - random) / (oracle - random) if oracle > random else 0.0
    return SimulatorScore(policy, random, oracle, gap, users)


def greedy_chooser(policy: Policy, encoder: ContextEncoder, skills: Sequence[str]) -> ChooseFn:
    """``choose`` for :func:`evaluate_on_simulator`: the policy's greedy industry per seeker,
    from the same context the service would build (skills are indices into ``skills``)."""

    def choose(seekers: Seekers) -> np.ndarray:
        contexts = encoder.encode(
            seekers.ages, [skills[i] for i in seekers.skills], list(seekers.preferences)
        )
        return greedy(policy, contexts)

    return choose
