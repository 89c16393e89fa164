"""`vacrec bench train`: learning quality on the catalog-grounded simulator, and training speed.

For each seed and each population (``independent``: a hidden taste per skill
and age band on top of what the words say; ``contradicting``: the taste
prefers industries the words do not point to):

1. log ``EVENTS`` simulated requests with ε = 1 *through the real service
   layer* (:class:`vacrec.app.recommender.Recommender`) into a temporary
   SQLite store, exactly as ``vacrec simulate``;
2. train once with the default :class:`TrainConfig` and score the greedy policy
   on the simulator by exact expectation against uniform random and the oracle
   (*gap closed*); the content prior (no training) on the same seekers too, and
   the *observable oracle* — the best choice given only what the service sees
   (:meth:`JobSeekerEnv.observable_oracle_choice`), the ceiling of any policy;
3. train on as many fresh events, explored the same way, whose rewards are the exact
   expectations instead of sampled votes (*noise-free*): how much of the shortfall
   is vote noise;
4. train on the same log with the rewards replaced by random ones, to show
   such a model learns nothing;
5. *peers*: at each budget (the first N events of the one log: 4,000 and 20,000 by default),
   vacrec's trainer, Vowpal Wabbit's ``--cb_adf`` and a LightGBM direct method
   (:mod:`vacrec.benchmarks.peers`) are trained on the very same logged rows and features, in
   this process, and their greedy policies scored by the same simulator value function, with
   the wall time of each fit (building its inputs included).

Speed: samples/s of the vectorised trainer (defaults, and at the original's
batch 32) against a reference loop that steps the optimiser once per sample
(as the original did), interleaved in the same process. The machine is shared,
so speed figures wobble; ratios within one run are what to compare.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sqlalchemy import Engine

from vacrec.agent.context import ContextEncoder, scale_age
from vacrec.agent.network import ContextualQNetwork
from vacrec.agent.policy import (
    CONTENT_PRIOR,
    QModel,
    exploration_probabilities,
    related_to_words,
)
from vacrec.agent.trainer import TrainConfig, td_targets, train
from vacrec.agent.transitions import Transitions
from vacrec.benchmarks.store import catalog_store
from vacrec.config import Settings
from vacrec.domain import SkillVocabulary
from vacrec.evaluation.promotion import PromoteMode
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.evaluate import evaluate_on_simulator, greedy_chooser
from vacrec.simulate.taste import TasteMode
from vacrec.store.events import clear_logs

EVENTS = 4_000  # simulated requests logged with ε = 1
BUDGETS = (4_000, 20_000)  # first N logged events each learner is trained on
CURVE_BUDGETS = (1_000, 2_000, 4_000, 10_000, 20_000)  # the README's learning curve
SEEDS = (0, 1, 2)
TASTES: tuple[TasteMode, ...] = ("independent", "contradicting")
REFERENCE_SAMPLES = 1_000  # per-sample loop: one optimiser step per sample
SPEED_UPDATES = 1_000  # updates timed for each vectorised configuration
SPEED_REPEATS = 3  # interleaved speed measurements; medians are reported
EVAL_USERS = 5_000  # simulated seekers scored by exact expectation
ORIGINAL_BATCH, ORIGINAL_LR = 32, 2.5e-4

Progress = Callable[[str], None]


def per_sample_reference(transitions: Transitions, samples: int, seed: int) -> float:
    """Samples/s of the original's way: one Double-DQN update (same network, loss, clipping
    and optimiser) per logged sample, tensors built from each row as it comes."""
    config = TrainConfig(seed=seed)
    contexts = transitions.contexts
    skills = sorted(set(contexts.skills))
    industries = list(contexts.actions)
    torch.manual_seed(seed)
    q = ContextualQNetwork(len(skills), len(industries), config.hidden, config.embedding_dim)
    model = QModel(q, skills, industries)
    target = copy.deepcopy(q)
    optimizer = torch.optim.Adam(q.parameters(), lr=ORIGINAL_LR, fused=True)
    industry_ids = torch.from_numpy(model.industry_ids(contexts.actions))
    order = np.random.default_rng(seed).integers(len(transitions), size=samples)
    previous = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)

    def q_of(network: ContextualQNetwork, row: int) -> torch.Tensor:
        q: torch.Tensor = network(
            torch.from_numpy(scale_age(contexts.ages[row : row + 1])),
            torch.from_numpy(model.skill_ids(contexts.skills[row : row + 1])),
            industry_ids,
            torch.from_numpy(contexts.content[row : row + 1]),
        )
        return q

    try:
        start = time.perf_counter()
        for i in order:
            state, nxt = int(transitions.state[i]), int(transitions.next_state[i])
            r = torch.as_tensor(transitions.rewards[i : i + 1])
            done = torch.as_tensor([nxt < 0])
            with torch.no_grad():
                row = max(nxt, 0)
                y = td_targets(r, done, q_of(q, row), q_of(target, row), config.gamma)
            q_taken = q_of(q, state)[0, int(transitions.actions[i])].unsqueeze(0)
            loss = F.smooth_l1_loss(q_taken, y)
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
            torch.nn.utils.clip_grad_norm_(q.parameters(), config.max_grad_norm, foreach=True)
            optimizer.step()
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(previous)
    return samples / seconds


def _random_rewards(transitions: Transitions, seed: int) -> Transitions:
    """The same log with each reward replaced by tanh of five random ±1 votes."""
    votes = np.random.default_rng(seed).choice([-1, 1], size=(len(transitions), 5)).sum(axis=1)
    return transitions.with_rewards(np.tanh(votes))


NOISE_FREE_SEED_OFFSET = 7_919
"""The noise-free log's seekers are drawn with ``seed + this``: other seekers than the logged
ones and the evaluated ones."""


def _noise_free_log(
    env: JobSeekerEnv,
    encoder: ContextEncoder,
    skills: Sequence[str],
    seed: int,
    events: int | None = None,
) -> Transitions:
    """``events`` (default ``EVENTS``) fresh seekers, each served one industry as exploration
    serves it (ε = 1, related first), rewarded with the *exact* expected reward instead of
    sampled votes. Each is its own one-request episode (no sessions, so no bootstrapped next
    state): what the agent learns from this many explored requests when votes carry no noise."""
    n = EVENTS if events is None else events
    rng = np.random.default_rng(seed + NOISE_FREE_SEED_OFFSET)
    seekers = env.sample_seekers(n, rng)
    contexts = encoder.encode(
        seekers.ages, [skills[i] for i in seekers.skills], list(seekers.preferences)
    )
    n_actions = len(contexts.actions)
    spread = [
        exploration_probabilities(n_actions, related_to_words(row)) for row in contexts.content
    ]
    actions = np.asarray([rng.choice(n_actions, p=p) for p in spread], dtype=np.int64)
    rows = np.arange(n)
    expected = env.expected_rewards(seekers)[rows, actions]
    return Transitions(
        contexts,
        rows,
        np.full(n, -1, dtype=np.int64),
        actions,
        expected.astype(np.float32),
        np.asarray([p[a] for p, a in zip(spread, actions, strict=True)]),
    )


def first_events(transitions: Transitions, n: int) -> Transitions:
    """The first ``n`` logged rows, as a log of only those events would hold them: a session
    link to a request after them is cut (that request was never logged)."""
    head = transitions.subset(np.arange(len(transitions)) < n)
    if len(head):
        last = int(head.state.max())
        head.next_state = np.where(head.next_state > last, -1, head.next_state)
    return head


FIT_SEED_STEP = 100
"""Fit k of a log trains with seed S + k · this (``--fits``): one fit's trainer seed alone moves
a cell by up to 8 points at 4,000 events, more than most changes being judged."""


def _learners(
    transitions: Transitions,
    score: Callable[[Any], Any],
    seed: int,
    peers: dict[str, Any],
    progress: Progress,
    label: str,
    vacrec_result: Any = None,
    fits: int = 1,
) -> dict[str, dict[str, Any]]:
    """Gap closed and wall seconds of vacrec's trainer and each peer on the same rows: the
    means of ``fits`` fits (trainer seeds ``seed + k · FIT_SEED_STEP``), each fit's gap kept."""
    runs: dict[str, list[tuple[float, float]]] = {"vacrec": [], **{name: [] for name in peers}}
    for k in range(fits):
        fit_seed = seed + k * FIT_SEED_STEP
        if k > 0 or vacrec_result is None:
            progress(f"{label}: vacrec (fit {k + 1} of {fits})")
            start = time.perf_counter()
            trained = train(transitions, TrainConfig(seed=fit_seed))
            vacrec_result = trained, time.perf_counter() - start
        result, seconds = vacrec_result
        runs["vacrec"].append((score(result.model).gap_closed, seconds))
        for name, fit in peers.items():
            progress(f"{label}: {name} (fit {k + 1} of {fits})")
            fitted = fit(transitions, fit_seed)
            runs[name].append((score(fitted.policy).gap_closed, fitted.seconds))
    return {
        name: {
            "gap_closed": float(np.mean([gap for gap, _ in pairs])),
            "train_seconds": float(np.mean([sec for _, sec in pairs])),
            "gap_closed_fits": [round(float(gap), 4) for gap, _ in pairs],
        }
        for name, pairs in runs.items()
    }


def _one_population(
    engine: Engine,
    home: Path,
    seed: int,
    taste: TasteMode,
    progress: Progress,
    budgets: Sequence[int] = BUDGETS,
    peers: dict[str, Any] | None = None,
    blank_share: float = 0.0,
    fits: int = 1,
) -> tuple[dict[str, Any], Transitions, dict[int, dict[str, dict[str, Any]]]]:
    """The detailed figures at ``EVENTS`` (or the smallest budget), the log they came from, and
    every learner's figures at each budget: one log of the largest budget, cut to each."""
    from vacrec.app.simulation import simulate_into_store
    from vacrec.app.training import LogSelection, read_training_logs

    events = EVENTS if EVENTS in budgets else min(budgets)
    most = max(budgets)
    clear_logs(engine)
    settings = Settings(home=home, database_url=str(engine.url), epsilon=1.0, simulator_seed=seed)
    progress(f"seed {seed}, {taste}: logging {most} events through the service (ε = 1)")
    logged = simulate_into_store(engine, settings, most, seed, taste=taste, blank_share=blank_share)
    snapshot, encoder, whole = read_training_logs(engine, settings, LogSelection(simulated=True))
    transitions = first_events(whole, events)
    skills = SkillVocabulary().skills
    env = JobSeekerEnv(snapshot, skills, seed=seed, taste=taste, blank_share=blank_share)

    def score(policy: Any) -> Any:
        return evaluate_on_simulator(env, greedy_chooser(policy, encoder, skills), EVAL_USERS)

    progress(f"seed {seed}, {taste}: training")
    start = time.perf_counter()
    result = train(transitions, TrainConfig(seed=seed))
    wall = time.perf_counter() - start
    trained, prior = score(result.model), score(CONTENT_PRIOR)
    observable = evaluate_on_simulator(env, env.observable_oracle_choice, EVAL_USERS)
    by_budget: dict[int, dict[str, dict[str, Any]]] = {}
    for budget in sorted(budgets):
        label = f"seed {seed}, {taste}, {budget} events"
        rows = transitions if budget == events else first_events(whole, budget)
        reuse = (result, wall) if budget == events else None
        figures = _learners(rows, score, seed, peers or {}, progress, label, reuse, fits)
        figures["content_prior"] = {"gap_closed": prior.gap_closed}
        figures["observable_oracle"] = {"gap_closed": observable.gap_closed}
        by_budget[budget] = figures
    progress(f"seed {seed}, {taste}: training on exact rewards")
    noise_free = train(_noise_free_log(env, encoder, skills, seed, events), TrainConfig(seed=seed))
    progress(f"seed {seed}, {taste}: training on random rewards")
    noise = train(_random_rewards(transitions, seed), TrainConfig(seed=seed))
    return (
        {
            "seed": seed,
            "taste": taste,
            "transitions": len(transitions),
            "terminal_fraction": round(float(transitions.dones.mean()), 3),
            "logged_mean_reward": logged["mean_reward"],
            "updates": result.updates,
            "train_seconds": round(result.seconds, 2),
            "final_loss": result.final_loss,
            "greedy": trained.policy,
            "random": trained.random,
            "oracle": trained.oracle,
            "gap_closed": trained.gap_closed,
            "content_prior_gap_closed": prior.gap_closed,
            # The best any policy seeing only age, skill and words can do: what is left between
            # this and the trained policy is what the agent has not learnt, not what it cannot
            # see.
            "observable_oracle_gap_closed": observable.gap_closed,
            # As many explored requests, each rewarded by its exact expectation (one-request
            # episodes): what is left between this and the oracle is not vote noise.
            "noise_free_gap_closed": score(noise_free.model).gap_closed,
            "random_rewards_gap_closed": score(noise.model).gap_closed,
        },
        transitions,
        by_budget,
    )


ADAPTIVE_TEMPERATURE = 0.1
"""``VACREC_EXPLORE_TEMPERATURE`` of the adaptive log: Q-values span about one reward unit,
so a tenth of it keeps a few candidates per seeker in play."""


def _adaptive_population(
    engine: Engine,
    home: Path,
    seed: int,
    taste: TasteMode,
    every: int,
    progress: Progress,
    budgets: Sequence[int],
    peers: dict[str, Any],
    blank_share: float = 0.0,
) -> tuple[dict[str, Any], dict[int, dict[str, dict[str, Any]]]]:
    """The rounds of an adaptive log of the largest budget (:mod:`.train_adaptive`) and every
    learner's figures on its first N events at each budget, as :func:`_one_population`."""
    from vacrec.app.training import LogSelection, read_training_logs
    from vacrec.benchmarks.train_adaptive import log_adaptively

    clear_logs(engine)
    settings = Settings(
        home=home,
        database_url=str(engine.url),
        epsilon=1.0,
        explore_temperature=ADAPTIVE_TEMPERATURE,
        simulator_seed=seed,
    )
    most = max(budgets)
    rounds = log_adaptively(engine, settings, most, every, seed, taste, progress, blank_share)
    snapshot, encoder, whole = read_training_logs(engine, settings, LogSelection(simulated=True))
    skills = SkillVocabulary().skills
    env = JobSeekerEnv(snapshot, skills, seed=seed, taste=taste, blank_share=blank_share)

    def score(policy: Any) -> Any:
        return evaluate_on_simulator(env, greedy_chooser(policy, encoder, skills), EVAL_USERS)

    by_budget: dict[int, dict[str, dict[str, Any]]] = {}
    for budget in sorted(budgets):
        label = f"seed {seed}, {taste}, adaptive, {budget} events"
        rows = first_events(whole, budget)
        by_budget[budget] = _learners(rows, score, seed, peers, progress, label)
    logged = whole.propensities[~np.isnan(whole.propensities)]
    rounds["min_propensity"] = round(float(logged.min()), 5) if logged.size else None
    return rounds, by_budget


def _speed(transitions: Transitions, progress: Progress) -> dict[str, Any]:
    """Vectorised trainer vs the per-sample loop, interleaved, medians of ``SPEED_REPEATS``."""
    vec, ref, vec32 = [], [], []
    for rep in range(SPEED_REPEATS):
        progress(f"speed {rep + 1}/{SPEED_REPEATS}: vectorised, per-sample loop, batch 32")
        vec.append(
            train(transitions, TrainConfig(updates=SPEED_UPDATES, seed=rep)).samples_per_second
        )
        ref.append(per_sample_reference(transitions, REFERENCE_SAMPLES, seed=rep))
        batch32 = TrainConfig(
            batch_size=ORIGINAL_BATCH, learning_rate=ORIGINAL_LR, updates=SPEED_UPDATES, seed=rep
        )
        vec32.append(train(transitions, batch32).samples_per_second)
    vectorised, reference, at32 = (float(np.median(x)) for x in (vec, ref, vec32))
    return {
        "samples_per_second": round(vectorised, 1),
        "reference_samples_per_second": round(reference, 1),
        "reference_samples": REFERENCE_SAMPLES,
        "ratio": round(vectorised / reference, 1),
        "batch_size": TrainConfig().batch_size,
        "samples_per_second_batch32": round(at32, 1),
        "ratio_batch32": round(at32 / reference, 1),
        "speed_repeats": SPEED_REPEATS,
    }


LEARNERS = ("vacrec", "vw", "lightgbm", "content_prior", "observable_oracle")


def _table(
    per_run: dict[tuple[int, str], dict[int, dict[str, dict[str, Any]]]],
    seeds: Sequence[int],
    tastes: Sequence[str],
    budgets: Sequence[int],
) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """{taste: {budget: {learner: per-seed lists and their means}}}, seeds in ``seeds`` order."""
    table: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for taste in tastes:
        table[taste] = {}
        for budget in sorted(budgets):
            cells = [per_run[(seed, taste)][budget] for seed in seeds]
            row: dict[str, dict[str, Any]] = {}
            for learner in LEARNERS:
                if learner not in cells[0]:
                    continue
                entry: dict[str, Any] = {}
                for key in ("gap_closed", "train_seconds"):
                    if key in cells[0][learner]:
                        values = [round(float(c[learner][key]), 4) for c in cells]
                        entry[key] = values
                        entry[f"{key}_mean"] = round(float(np.mean(values)), 4)
                if "gap_closed_fits" in cells[0][learner]:  # per seed, each fit's
                    entry["gap_closed_fits"] = [c[learner]["gap_closed_fits"] for c in cells]
                row[learner] = entry
            table[taste][str(budget)] = row
    return table


def run(
    catalog: Path,
    seeds: Sequence[int] = SEEDS,
    progress: Progress | None = None,
    tastes: Sequence[TasteMode] = TASTES,
    budgets: Sequence[int] = BUDGETS,
    with_peers: bool = True,
    adaptive_every: int | None = None,
    blank_share: float = 0.0,
    fits: int = 1,
) -> dict[str, Any]:
    """All figures of ``vacrec bench train`` as one JSON-ready dict; with ``adaptive_every``
    also every learner on an adaptively explored log (:func:`_adaptive_population`).
    ``blank_share``: the share of logged and scored seekers who type nothing (1: all of them,
    the population the agent can serve only from age, skill and ratings). ``fits``: every
    learner is trained this many times per log (see :data:`FIT_SEED_STEP`) and reported by the
    mean, each fit's gap closed kept in ``gap_closed_fits``."""
    from vacrec.benchmarks.peers import load_peers

    note = progress or (lambda _msg: None)
    peers, missing = load_peers() if with_peers else ({}, {})
    runs: list[dict[str, Any]] = []
    per_run: dict[tuple[int, str], dict[int, dict[str, dict[str, Any]]]] = {}
    adaptive_runs: dict[tuple[int, str], dict[int, dict[str, dict[str, Any]]]] = {}
    adaptive_rounds: list[dict[str, Any]] = []
    first_log: Transitions | None = None
    with catalog_store(catalog, "bench train", note) as (engine, home):
        for seed in seeds:
            for taste in tastes:
                figures, transitions, by_budget = _one_population(
                    engine, home, seed, taste, note, budgets, peers, blank_share, fits
                )
                runs.append(figures)
                per_run[(seed, taste)] = by_budget
                first_log = first_log or transitions
                if adaptive_every is not None:
                    rounds, adaptive_by_budget = _adaptive_population(
                        engine, home, seed, taste, adaptive_every, note, budgets, peers
                    )
                    adaptive_rounds.append({"seed": seed, "taste": taste, **rounds})
                    adaptive_runs[(seed, taste)] = adaptive_by_budget
    assert first_log is not None
    adaptive: dict[str, Any] = {}
    if adaptive_every is not None:
        adaptive = {
            "adaptive": {
                "every": adaptive_every,
                "explore_temperature": ADAPTIVE_TEMPERATURE,
                "logs": adaptive_rounds,
                "learners": _table(adaptive_runs, seeds, tastes, budgets),
            }
        }

    by_taste = {taste: [r["gap_closed"] for r in runs if r["taste"] == taste] for taste in tastes}
    return {
        **_speed(first_log, note),
        "cores": os.cpu_count(),
        "torch_threads": TrainConfig().torch_threads,
        "logging": "real service layer (Recommender) into a temporary SQLite store, ε = 1",
        "events": runs[0]["transitions"] if runs else EVENTS,
        "blank_share": blank_share,
        "fits": fits,
        "fit_seed_step": FIT_SEED_STEP,
        "stopping": TrainConfig().stopping_rule(),
        "gap_closed_min": {t: min(g) for t, g in by_taste.items()},
        "gap_closed_mean": {t: float(np.mean(g)) for t, g in by_taste.items()},
        "runs": runs,
        # Every learner on the first N events of the same logs (one log per seed and taste),
        # scored by the same simulator value function; train_seconds are wall times of each
        # fit, inputs built included.
        "seeds": list(seeds),
        "budgets": sorted(budgets),
        "learners": _table(per_run, seeds, tastes, budgets),
        "peers": {name: _peer_settings(name) for name in peers},
        "peers_missing": missing,
        **adaptive,
    }


def _peer_settings(name: str) -> dict[str, Any]:
    """What each peer was run with, for the report."""
    if name == "vw":
        from vacrec.benchmarks.peers_vw import ARGS

        return {"args": ARGS}
    from vacrec.benchmarks.peers_lgbm import MAX_ROUNDS, PARAMS, PATIENCE, VALIDATION_SHARE

    return {
        **PARAMS,
        "max_rounds": MAX_ROUNDS,
        "early_stopping_rounds": PATIENCE,
        "validation_share": VALIDATION_SHARE,
    }


# --------------------------------------------------------------------------- training at scale

SCALE_EVENTS = (100_000, 1_000_000)
SCALE_UPDATES = 200  # a whole training with this many updates: reading, OPE, registry included
SCALE_SESSION = 4  # requests per synthetic session (linked by next states)
SCALE_PREFERENCES = 5_000  # distinct preference texts (vacancy titles), a fifth of requests blank
FILL_BATCH = 50_000


def _fill_log(engine: Engine, n: int, seed: int) -> float:
    """``n`` synthetic rated events (sessions of ``SCALE_SESSION``, one minute apart) with their
    feedback, inserted in bulk; returns the seconds it took."""
    from datetime import UTC, datetime, timedelta

    from vacrec.store.catalog import catalog_industries, vacancy_titles
    from vacrec.store.events import insert_rated_events

    rng = np.random.default_rng(seed)
    with engine.connect() as conn:
        industries = catalog_industries(conn)
        titles = vacancy_titles(conn, SCALE_PREFERENCES)
    preferences = ["", *titles]
    skills = SkillVocabulary().skills
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    start = time.perf_counter()
    for first in range(0, n, FILL_BATCH):
        ids = range(first, min(n, first + FILL_BATCH))
        size = len(ids)
        pref = rng.integers(len(preferences), size=size)
        pref[rng.random(size) < 0.2] = 0
        action = rng.integers(len(industries), size=size)
        cum = rng.integers(-5, 6, size=size)
        age, skill = rng.integers(18, 70, size=size), rng.integers(len(skills), size=size)
        at = [t0 + timedelta(minutes=i) for i in ids]
        with engine.begin() as conn:
            insert_rated_events(
                conn,
                [
                    {
                        "id": f"e{i}",
                        "created_at": at[j],
                        "session_id": f"s{i // SCALE_SESSION}",
                        "age": int(age[j]),
                        "skill": skills[skill[j]],
                        "preference": preferences[pref[j]],
                        "action": int(action[j]),
                        "industry": industries[action[j]],
                        "propensity": 1 / len(industries),
                        "explore": True,
                        "model_version": None,
                        "catalog_version": 1,
                        "shown": [],
                        "source": "api",
                    }
                    for j, i in enumerate(ids)
                ],
                [
                    {
                        "event_id": f"e{i}",
                        "created_at": at[j],
                        "age": int(age[j]),
                        "skill": skills[skill[j]],
                        "action": int(action[j]),
                        "industry": industries[action[j]],
                        "cum_reward": int(cum[j]),
                        "reward": float(np.tanh(cum[j])),
                        "votes": None,
                        "legacy": False,
                    }
                    for j, i in enumerate(ids)
                ],
            )
    return time.perf_counter() - start


def _rss_mb() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure(
    url: str, home: str, whole_training: bool, window_events: int | None
) -> dict[str, Any]:
    """In a fresh process: wall time and peak RSS of reading the logs (or of a whole training
    with ``SCALE_UPDATES`` updates)."""
    import resource

    from vacrec.app.training import LogSelection, read_training_logs, train_from_store
    from vacrec.store.db import make_engine

    settings = Settings(home=Path(home), database_url=url, train_window_events=window_events)
    engine = make_engine(url)
    baseline = _rss_mb()
    start = time.perf_counter()
    if whole_training:
        report = train_from_store(
            engine, settings, TrainConfig(updates=SCALE_UPDATES), promote_mode=PromoteMode.never
        )
        rows = report["transitions"]
    else:
        _, _, transitions = read_training_logs(engine, settings, LogSelection())
        rows = len(transitions)
    seconds = time.perf_counter() - start
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "transitions": rows,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1),
        "baseline_rss_mb": round(baseline, 1),
        "added_mb": round(peak - baseline, 1),
    }


def _in_fresh_process(*args: Any) -> dict[str, Any]:
    """:func:`_measure` in a spawned process, so each peak RSS is its own."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measure, *args).result()


def run_scale(
    catalog: Path,
    sizes: Sequence[int] = SCALE_EVENTS,
    progress: Progress | None = None,
    whole_training: bool = True,
    window_events: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Reading (and training on) big logs: for each size, a fresh SQLite store filled with that
    many synthetic rated events; wall time and peak RSS, each measured in a fresh process."""
    from vacrec.store.logged_requests import CHUNK_ROWS

    note = progress or (lambda _msg: None)
    out: list[dict[str, Any]] = []
    with catalog_store(catalog, "bench train scale", note) as (engine, home):
        for n in sizes:
            clear_logs(engine)
            note(f"{n:,} events: filling the store")
            entry: dict[str, Any] = {
                "events": n,
                "fill_seconds": round(_fill_log(engine, n, seed), 1),
            }
            note(f"{n:,} events: reading the logs")
            url = str(engine.url)
            entry["read"] = _in_fresh_process(url, str(home), False, window_events)
            if whole_training:
                note(f"{n:,} events: a whole training of {SCALE_UPDATES} updates")
                entry["train"] = _in_fresh_process(url, str(home), True, window_events)
            out.append(entry)
    return {
        "cores": os.cpu_count(),
        "database": "sqlite (temporary file)",
        "chunk_rows": CHUNK_ROWS,
        "session_length": SCALE_SESSION,
        "distinct_preferences": SCALE_PREFERENCES + 1,
        "updates": SCALE_UPDATES,
        "window_events": window_events,
        "sizes": out,
    }
