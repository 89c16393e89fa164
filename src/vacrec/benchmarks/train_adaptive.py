"""Adaptive logging for `vacrec bench train --adaptive-every N`: serve, retrain, serve again.

The ε = 1 log of the training benchmark is explored by the content prior alone: every request
is spread the same way however many have been rated. Here the log is built in rounds of ``N``
simulated requests through the real service layer; after each round a candidate is trained on
everything logged so far, registered and promoted through the registry (``vacrec train
--simulated --allow-simulated --promote always``, as ``vacrec serve --retrain-every`` would
with an operator's consent), and the next round is served by it. With
``VACREC_EXPLORE_TEMPERATURE`` > 0 its exploration then goes where the model is unsure or
nearly sure it is good (:func:`vacrec.agent.policy.exploration_probabilities`); each event
logs the exact probability it was served with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from vacrec.agent.trainer import TrainConfig
from vacrec.config import Settings
from vacrec.simulate.taste import TasteMode

ROUND_SEED_STEP = 10_007
"""Round r's seekers are drawn with ``seed + r × this``: other seekers every round (and
session ids that never collide)."""

Progress = Callable[[str], None]


def log_adaptively(
    engine: Engine,
    settings: Settings,
    events: int,
    every: int,
    seed: int,
    taste: TasteMode,
    progress: Progress | None = None,
    blank_share: float = 0.0,
) -> dict[str, Any]:
    """Log ``events`` simulated requests in rounds of ``every``, retraining and promoting a
    model after each round but the last; returns what each round served and trained."""
    from vacrec.app.simulation import simulate_into_store
    from vacrec.app.training import LogSelection, train_from_store
    from vacrec.evaluation.promotion import PromoteMode

    if every < 1 or events < 1:
        raise ValueError("events and every must be at least 1")
    note = progress or (lambda _msg: None)
    rounds: list[dict[str, Any]] = []
    logged = 0
    while logged < events:
        size = min(every, events - logged)
        note(f"adaptive round {len(rounds) + 1}: logging events {logged + 1}–{logged + size}")
        served = simulate_into_store(
            engine,
            settings,
            size,
            seed + ROUND_SEED_STEP * len(rounds),
            taste=taste,
            blank_share=blank_share,
        )
        logged += size
        entry: dict[str, Any] = {
            "events": logged,
            "served_by": served["model_version"],
            "mean_reward": served["mean_reward"],
        }
        if logged < events:
            note(f"adaptive round {len(rounds) + 1}: training on {logged} events")
            report = train_from_store(
                engine,
                settings,
                TrainConfig(seed=seed),
                PromoteMode.always,
                selection=LogSelection(simulated=True),
                allow_simulated=True,
            )
            entry["trained_version"] = report["version"]
            entry["promoted"] = report["promoted"]
            entry["train_seconds"] = report["seconds"]
        rounds.append(entry)
    return {"every": every, "events": logged, "rounds": rounds}
