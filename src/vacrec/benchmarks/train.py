"""`vacrec bench train`: training speed against a per-sample loop, and learning quality.

One run:

1. ingests the catalog into a temporary SQLite store and logs ``EVENTS``
   simulated requests with ε = 1 *through the real service layer*
   (:class:`vacrec.service.recommender.Recommender`), exactly as ``vacrec simulate``;
2. trains once with the default :class:`TrainConfig` (number of updates derived
   from the data size) and scores the greedy policy on the simulator against
   uniform random and the oracle (gap closed);
3. trains on the same log with the rewards replaced by random ones — what the
   original did — to show that such a model is no better than random;
4. measures samples/s of the vectorised trainer (defaults, and at the original's
   batch 32) and of a reference loop that steps the optimiser once per sample,
   as the original did, in the same process.

Quality is repeated for each seed in ``seeds`` (each seed: its own simulated
population and log). The machine is shared, so speed figures wobble.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sqlalchemy import delete

from vacrec.agent.network import QNetwork
from vacrec.agent.policy import QModel
from vacrec.agent.skills import skill_vocabulary
from vacrec.agent.trainer import TrainConfig, td_targets, train
from vacrec.agent.transitions import Transitions, load_transitions
from vacrec.config import Settings
from vacrec.evaluation.simulator_eval import evaluate_on_simulator
from vacrec.store.catalog import catalog_industries
from vacrec.store.db import make_engine, migrate
from vacrec.store.tables import events, feedback, model_promotions, models

EVENTS = 4_000  # simulated requests logged with ε = 1
REFERENCE_SAMPLES = 2_000  # per-sample loop: one optimiser step per sample
SPEED_REPEATS = 3  # interleaved speed measurements; medians are reported
EVAL_USERS = 5_000  # simulated users scored by exact expectation
ORIGINAL_BATCH, ORIGINAL_LR = 32, 2.5e-4

Progress = Callable[[str], None]


def per_sample_reference(
    transitions: Transitions, n_actions: int, samples: int, seed: int
) -> float:
    """Samples/s of the original's way: one Double-DQN update (same network, loss, clipping
    and optimiser) per logged sample, tensors built from each row as it comes."""
    config = TrainConfig(seed=seed)
    torch.manual_seed(seed)
    q = QNetwork(transitions.states.shape[1], n_actions, config.hidden)
    target = copy.deepcopy(q)
    optimizer = torch.optim.Adam(q.parameters(), lr=ORIGINAL_LR, fused=True)
    rng = np.random.default_rng(seed)
    order = rng.integers(len(transitions), size=samples)
    previous = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        start = time.perf_counter()
        for i in order:
            s = torch.as_tensor(transitions.states[i : i + 1])
            s2 = torch.as_tensor(transitions.next_states[i : i + 1])
            r = torch.as_tensor(transitions.rewards[i : i + 1])
            d = torch.as_tensor(transitions.dones[i : i + 1])
            with torch.no_grad():
                y = td_targets(r, d, q(s2), target(s2), config.gamma)
            q_taken = q(s)[0, int(transitions.actions[i])].unsqueeze(0)
            loss = F.smooth_l1_loss(q_taken, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(q.parameters(), config.max_grad_norm, foreach=True)
            optimizer.step()
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(previous)
    return samples / seconds


def _random_rewards(transitions: Transitions, seed: int) -> Transitions:
    """The same log with each reward replaced by tanh of five random ±1 votes."""
    rng = np.random.default_rng(seed)
    votes = rng.choice([-1, 1], size=(len(transitions), 5)).sum(axis=1)
    return replace(transitions, rewards=np.tanh(votes).astype(np.float32))


def _log_through_service(engine: Any, settings: Settings, seed: int) -> dict[str, Any]:
    from vacrec.learning import simulate_into_store

    with engine.begin() as conn:
        for table in (feedback, events, model_promotions, models):
            conn.execute(delete(table))
    return simulate_into_store(engine, settings, EVENTS, seed)


def _one_seed(engine: Any, home: Path, catalog_seed: int, progress: Progress) -> dict[str, Any]:
    from vacrec.simulate.runner import env_from_catalog

    settings = Settings(
        home=home, database_url=str(engine.url), epsilon=1.0, simulator_seed=catalog_seed
    )
    skills = skill_vocabulary()
    progress(f"seed {catalog_seed}: logging {EVENTS} events through the service (ε = 1)")
    summary = _log_through_service(engine, settings, catalog_seed)
    with engine.connect() as conn:
        actions = tuple(catalog_industries(conn))
        transitions = load_transitions(conn, actions, skills)
        env = env_from_catalog(conn, skills, seed=catalog_seed)

    progress(f"seed {catalog_seed}: training")
    result = train(transitions, actions, skills, TrainConfig(seed=catalog_seed))
    model = QModel(result.network, actions, skills)
    score = evaluate_on_simulator(env, model.greedy_batch, users=EVAL_USERS)

    progress(f"seed {catalog_seed}: training on random rewards")
    noise = train(
        _random_rewards(transitions, catalog_seed), actions, skills, TrainConfig(seed=catalog_seed)
    )
    noise_score = evaluate_on_simulator(
        env, QModel(noise.network, actions, skills).greedy_batch, users=EVAL_USERS
    )
    return {
        "seed": catalog_seed,
        "transitions": len(transitions),
        "terminal_fraction": float(transitions.dones.mean()),
        "logged_mean_reward": summary["mean_reward"],
        "updates": result.updates,
        "train_seconds": result.seconds,
        "samples_per_second": result.samples_per_second,
        "final_loss": result.final_loss,
        "greedy": score.policy,
        "random": score.random,
        "oracle": score.oracle,
        "gap_closed": score.gap_closed,
        "random_rewards_greedy": noise_score.policy,
        "random_rewards_gap_closed": noise_score.gap_closed,
        "_transitions": transitions,
        "_actions": actions,
    }


def run(
    catalog: Path,
    seeds: Sequence[int] = (0,),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """All figures of ``vacrec bench train`` as one JSON-ready dict."""
    from vacrec.store.ingest import ingest_paths

    note = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="vacrec-bench-train-") as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'bench.db'}")
        try:
            migrate(engine)
            note(f"ingesting {catalog.name}")
            ingest_paths(engine, [catalog], source="bench train")
            runs = [_one_seed(engine, home, seed, note) for seed in seeds]
        finally:
            engine.dispose()

    first = runs[0]
    transitions, actions = first.pop("_transitions"), first.pop("_actions")
    for r in runs[1:]:
        r.pop("_transitions"), r.pop("_actions")
    skills = skill_vocabulary()

    # Speed, measured back to back (interleaved, medians) so both loops see the same load.
    vec, ref, vec32 = [], [], []
    for rep in range(SPEED_REPEATS):
        note(f"speed {rep + 1}/{SPEED_REPEATS}: vectorised, per-sample loop, batch 32")
        vec.append(train(transitions, actions, skills, TrainConfig(seed=rep)).samples_per_second)
        ref.append(per_sample_reference(transitions, len(actions), REFERENCE_SAMPLES, seed=rep))
        vec32.append(
            train(
                transitions,
                actions,
                skills,
                TrainConfig(
                    batch_size=ORIGINAL_BATCH, learning_rate=ORIGINAL_LR, updates=2_000, seed=rep
                ),
            ).samples_per_second
        )
    vectorised, reference, batch32 = (float(np.median(x)) for x in (vec, ref, vec32))
    gaps = [r["gap_closed"] for r in runs]
    return {
        "samples_per_second": round(vectorised, 1),
        "reference_samples_per_second": round(reference, 1),
        "reference_samples": REFERENCE_SAMPLES,
        "ratio": round(vectorised / reference, 1),
        "batch_size": TrainConfig().batch_size,
        "samples_per_second_batch32": round(batch32, 1),
        "ratio_batch32": round(batch32 / reference, 1),
        "speed_repeats": SPEED_REPEATS,
        "cores": os.cpu_count(),
        "torch_threads": TrainConfig().torch_threads,
        "logging": "real service layer (Recommender) into a temporary SQLite store, ε = 1",
        "events": EVENTS,
        "stopping": TrainConfig().stopping_rule(),
        "quality": {
            "greedy": first["greedy"],
            "random": first["random"],
            "oracle": first["oracle"],
            "gap_closed": first["gap_closed"],
            "random_rewards_gap_closed": first["random_rewards_gap_closed"],
        },
        "gap_closed_min": min(gaps),
        "gap_closed_mean": float(np.mean(gaps)),
        "runs": runs,
    }
