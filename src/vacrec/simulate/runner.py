"""Drive a recommender with simulated job seekers: request, look, vote, send feedback.

The runner talks to anything with ``serve`` / ``feedback`` (the in-process
service layer or an HTTP client adapter), so simulated events land in the store
exactly like real ones. Seekers come from the environment (postings of its
catalog snapshot, which should be the catalog the service serves); some make
2–3 requests in one session. Votes are drawn for the cards the service actually
showed, with the environment's probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from vacrec.app.serving import SeekerRequest
from vacrec.simulate.env import SESSION_LENGTHS, SESSION_PROBS, JobSeekerEnv


class ServedLike(Protocol):
    """What the runner reads of a served recommendation."""

    @property
    def event_id(self) -> str: ...

    @property
    def industry(self) -> str: ...

    @property
    def items(self) -> Sequence[Any]: ...


class RecommenderLike(Protocol):
    """What the runner needs of a recommender (``vacrec.app.recommender.Recommender``,
    or ``vacrec.simulate.http.HttpRecommender`` for a running server)."""

    def serve(
        self, request: SeekerRequest, session_id: str | None = None, source: str = "api"
    ) -> ServedLike: ...

    def feedback(
        self,
        event_id: str,
        votes: list[tuple[str, int]] | None = None,
        cum_reward: int | None = None,
    ) -> float: ...


@dataclass(frozen=True)
class SimulationSummary:
    """What one simulation run did and how well the served policy pleased the seekers."""

    events: int
    users: int
    sessions: int  # users with more than one request
    mean_reward: float
    mean_oracle: float  # best expected reward for the same seekers, per event
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _item_id(item: Any) -> str:
    """A shown vacancy's id, whether the item is a dataclass, a (card, score) pair or a dict."""
    if isinstance(item, dict):
        return str(item["id"])
    if isinstance(item, tuple):
        return _item_id(item[0])
    return str(item.id)


def run_simulation(
    service: RecommenderLike,
    env: JobSeekerEnv,
    events: int,
    seed: int = 0,
    k: int = 5,
    source: str = "simulator",
    progress: Callable[[int], None] | None = None,
) -> SimulationSummary:
    """Simulate ``events`` requests with feedback; returns a summary.

    Deterministic given ``seed`` and the service's choices. ``mean_oracle`` is the
    environment's exact best expected reward for each request's seeker.
    """
    if events < 1:
        raise ValueError("events must be at least 1")
    rng = np.random.default_rng(seed)
    action_of = {name: i for i, name in enumerate(env.actions)}
    seekers = env.sample_seekers(events, rng)  # at most one seeker per event
    lengths = rng.choice(SESSION_LENGTHS, size=events, p=SESSION_PROBS)
    rewards: list[float] = []
    seeker_of_event: list[int] = []
    users = sessions = 0
    while len(rewards) < events:
        seeker, length = seekers[users], int(lengths[users])
        session_id = f"sim-{seed}-{users}" if length > 1 else None
        sessions += length > 1
        for _ in range(min(length, events - len(rewards))):
            request = SeekerRequest(seeker.age, env.skills[seeker.skill], seeker.preference, k)
            rec = service.serve(request, session_id, source)
            if rec.industry not in action_of:
                raise ValueError(
                    f"the service served industry {rec.industry!r}, which the simulator's "
                    "catalog does not have: build the environment from the served catalog"
                )
            shown = [_item_id(item) for item in rec.items]
            if shown:
                votes = env.votes(seeker, action_of[rec.industry], shown, rng)
                reward = service.feedback(rec.event_id, votes=list(zip(shown, votes, strict=True)))
            else:
                reward = service.feedback(rec.event_id, cum_reward=0)
            rewards.append(float(reward))
            seeker_of_event.append(users)
            if progress is not None:
                progress(len(rewards))
        users += 1
    oracle = env.oracle(seekers.take(np.arange(users)))
    return SimulationSummary(
        events=len(rewards),
        users=users,
        sessions=sessions,
        mean_reward=float(np.mean(rewards)),
        mean_oracle=float(np.mean(oracle[seeker_of_event])),
        seed=seed,
    )
