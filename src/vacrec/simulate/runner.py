"""Drive a recommender with simulated job seekers: request, look, vote, send feedback.

The runner talks to anything with ``recommend`` / ``feedback`` (the in-process
service layer or an HTTP client adapter), so simulated events land in the store
exactly like real ones. Some users make 2–3 requests in one session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Connection, func, select

from vacrec.simulate.env import SESSION_LENGTHS, SESSION_PROBS, JobSeekerEnv
from vacrec.store.catalog import catalog_industries
from vacrec.store.tables import vacancy_industries


class RecommenderLike(Protocol):
    """What the runner needs of a recommender (``vacrec.service.recommender.Recommender``)."""

    def recommend(
        self,
        age: int,
        skill: str,
        preference: str,
        k: int = 5,
        session_id: str | None = None,
        explore: bool = True,
        source: str = "api",
    ) -> Any: ...

    def feedback(
        self,
        event_id: str,
        votes: list[tuple[str, int]] | None = None,
        cum_reward: int | None = None,
    ) -> float: ...


@dataclass(frozen=True)
class SimulationSummary:
    """What one simulation run did and how well the served policy pleased the users."""

    events: int
    users: int
    sessions: int  # users with more than one request
    mean_reward: float
    mean_oracle: float  # best expected reward for the same users
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def env_from_catalog(
    conn: Connection, skills: tuple[str, ...], seed: int = 0, k: int = 5
) -> JobSeekerEnv:
    """A simulator over the store's industries (action order) showing as many vacancies per
    industry as the catalog holds (at most ``k``), so its expectations match the service."""
    industries = catalog_industries(conn)
    counts = dict(
        conn.execute(
            select(vacancy_industries.c.industry, func.count()).group_by(
                vacancy_industries.c.industry
            )
        ).all()
    )
    return JobSeekerEnv(
        industries, skills, seed=seed, k=k, shown_counts=[counts.get(i, 0) for i in industries]
    )


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
    """Simulate ``events`` requests with feedback; returns a summary."""
    if events < 1:
        raise ValueError("events must be at least 1")
    rng = np.random.default_rng(seed)
    action_of = {name: i for i, name in enumerate(env.industries)}
    rewards: list[float] = []
    oracles: list[float] = []
    users = sessions = 0
    while len(rewards) < events:
        ages, skills_idx = env.sample_users(1, rng)
        age, skill_idx = int(ages[0]), int(skills_idx[0])
        preference = env.preference_text(skill_idx, rng)
        length = int(rng.choice(SESSION_LENGTHS, p=SESSION_PROBS))
        session_id = f"sim-{seed}-{users}" if length > 1 else None
        oracle = float(env.oracle(ages, skills_idx)[0])
        users += 1
        sessions += length > 1
        for _ in range(min(length, events - len(rewards))):
            rec = service.recommend(
                age, env.skills[skill_idx], preference, k=k, session_id=session_id, source=source
            )
            action = action_of[rec.industry]
            shown = [_item_id(item) for item in rec.items]
            if shown:
                votes = env.votes(age, skill_idx, action, len(shown), rng)
                reward = service.feedback(rec.event_id, votes=list(zip(shown, votes, strict=True)))
            else:
                reward = service.feedback(rec.event_id, cum_reward=0)
            rewards.append(float(reward))
            oracles.append(oracle)
            if progress is not None:
                progress(len(rewards))
    return SimulationSummary(
        events=len(rewards),
        users=users,
        sessions=sessions,
        mean_reward=float(np.mean(rewards)),
        mean_oracle=float(np.mean(oracles)),
        seed=seed,
    )
