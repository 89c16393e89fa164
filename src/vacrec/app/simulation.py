"""Simulated job seekers: they use the real service layer (or a running server over HTTP) and
leave feedback, so the learning loop can be run and measured without real traffic.

Events the simulator makes in the store are marked with their source: kept out of training
and evaluation unless asked for (:class:`~vacrec.app.training.LogSelection`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine

from vacrec.app.recommender import Recommender
from vacrec.app.snapshots import load_snapshot
from vacrec.app.training import LearningError
from vacrec.config import Settings
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.http import HttpRecommender
from vacrec.simulate.runner import run_simulation
from vacrec.simulate.taste import TasteMode

__all__ = ["simulate_into_store", "simulate_over_http"]

Progress = Callable[[int], None]
"""Told how many events are done."""


def simulate_into_store(
    engine: Engine,
    settings: Settings,
    events: int,
    seed: int,
    progress: Progress | None = None,
    source: str = "simulator",
    taste: TasteMode = "independent",
    blank_share: float = 0.0,
) -> dict[str, Any]:
    """Simulated job seekers use the real service layer; their events land in the store marked
    with ``source`` (simulated: kept out of training and evaluation unless asked for)."""
    service = Recommender.from_store(engine, settings, seed=seed)
    snapshot = service.snapshots.current
    if snapshot is None or not snapshot.actions:
        raise LearningError("the catalog is empty: run `vacrec ingest` first")
    env = JobSeekerEnv(
        snapshot,
        settings.skill_vocabulary.skills,
        seed=settings.simulator_seed,
        taste=taste,
        blank_share=blank_share,
    )
    summary = run_simulation(service, env, events, seed=seed, source=source, progress=progress)
    current = service.models.current
    return {
        **summary.to_dict(),
        "epsilon": settings.epsilon,
        "model_version": current.version if current is not None else None,
        "source": source,
    }


def simulate_over_http(
    url: str,
    settings: Settings,
    engine: Engine,
    events: int,
    seed: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Simulated job seekers use a running server's HTTP API (its own ε applies).

    The seekers are drawn from the catalog in this process's store (``engine``),
    which must be the server's: their wishes and votes come from its postings.
    The server records these events as real traffic (it cannot tell).
    """
    snapshot = load_snapshot(engine)
    if not snapshot.actions:
        raise LearningError("the catalog is empty: run `vacrec ingest` first")
    with httpx.Client(base_url=url, timeout=30) as client:
        service = HttpRecommender(url, client)
        try:
            industries = service.industries()
            if tuple(industries) != tuple(snapshot.actions):
                raise LearningError(f"{url} serves another catalog than this store holds")
            env = JobSeekerEnv(
                snapshot, settings.skill_vocabulary.skills, seed=settings.simulator_seed
            )
            summary = run_simulation(service, env, events, seed=seed, progress=progress)
            version = service.model_version()
        except httpx.HTTPError as error:
            raise LearningError(f"{url}: {error}") from error
    return {**summary.to_dict(), "url": url, "model_version": version}
