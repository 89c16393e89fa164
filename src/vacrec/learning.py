"""The learning loop's steps, shared by the commands and the server.

Each function is one whole step over the store: load the demo catalog into an
empty store, simulate job seekers through the real service layer, train a
candidate and decide on its promotion, evaluate policies off-policy, and
bootstrap a first model. ``vacrec`` commands and ``vacrec serve``'s background
retraining call these, so the CLI and the server cannot drift apart.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from sqlalchemy import Engine

from vacrec.config import Settings
from vacrec.store.catalog import current_catalog_version

log = logging.getLogger(__name__)

DEMO_PACKAGE, DEMO_PATH = "vacrec.catalog", "demo/vacancies.jsonl"
BOOTSTRAP_EVENTS = 2000
"""Simulated events (logged with ε = 1) behind the first model of a new store."""

PROMOTION_RULE = (
    "auto: promote when there is no usable live model, or when the paired-bootstrap 95% "
    "lower bound of DR(candidate greedy) − DR(live greedy) is above 0"
)


class LearningError(Exception):
    """A step cannot run on this store (empty catalog, no feedback); the message says why."""


def ensure_catalog(engine: Engine) -> None:
    """An empty store gets the bundled demo catalog, so a first run has something to serve."""
    with engine.connect() as conn:
        if current_catalog_version(conn) is not None:
            return
    from vacrec.store.ingest import ingest_paths

    demo = resources.files(DEMO_PACKAGE).joinpath(DEMO_PATH)
    with resources.as_file(demo) as path:
        report = ingest_paths(engine, [path], source="demo catalog")
    log.info("empty catalog: loaded the demo catalog (%s vacancies)", report.inserted)


def ensure_model(engine: Engine, settings: Settings, events: int = BOOTSTRAP_EVENTS) -> int | None:
    """Bootstrap a first model when the registry has none; returns its version.

    Simulated job seekers (source ``bootstrap``, logged with ε = 1 so every
    industry is tried) rate ``events`` recommendations through the real
    service layer, and the model trained on them is promoted. Real feedback
    later joins these logs; the bootstrap rows stay distinguishable by source.
    """
    from vacrec.agent.registry import live_version

    with engine.connect() as conn:
        if live_version(conn) is not None:
            return None
    log.info("no model yet: bootstrapping one from %d simulated events", events)
    explore_all = settings.model_copy(update={"epsilon": 1.0})
    simulate_into_store(engine, explore_all, events, seed=0, source="bootstrap")
    report = train_from_store(engine, settings, promote_mode="always")
    log.info("bootstrapped model %s", report["version"])
    return int(report["version"])


def retrain_once(engine: Engine, settings: Settings) -> dict[str, object] | None:
    """One retraining step, exactly as `vacrec train` does it (promotes only if clearly better).

    Workers pick a promoted model up through the registry poll; nothing restarts.
    Returns the training report, or None when there is nothing to train on yet.
    """
    try:
        report = train_from_store(engine, settings, promote_mode="auto")
    except LearningError as reason:
        log.info("background retraining skipped: %s", reason)
        return None
    log.info(
        "background retraining: version %s, promoted=%s (%s)",
        report["version"],
        report["promoted"],
        report.get("promotion_reason"),
    )
    return report


def train_from_store(
    engine: Engine,
    settings: Settings,
    config: Any = None,
    promote_mode: str = "auto",
    progress: Any = None,
) -> dict[str, Any]:
    """Train a candidate from the logs, evaluate it off-policy, register it, maybe promote it."""
    from vacrec.agent.encoding import ENCODING_VERSION
    from vacrec.agent.policy import QModel
    from vacrec.agent.registry import ModelRefused, live_version, load_model, promote, save_model
    from vacrec.agent.skills import skill_vocabulary
    from vacrec.agent.trainer import TrainConfig, train
    from vacrec.agent.transitions import load_transitions
    from vacrec.evaluation.offline import OfflineEvaluator, as_dicts
    from vacrec.evaluation.report import write_training_report
    from vacrec.store.catalog import catalog_industries

    note = progress or (lambda _msg: None)
    config = config or TrainConfig()
    skills = skill_vocabulary(settings.extra_skills)
    note("reading logged events")
    with engine.connect() as conn:
        actions = tuple(catalog_industries(conn))
        if not actions:
            raise LearningError("the catalog is empty: run `vacrec ingest` first")
        transitions = load_transitions(conn, actions, skills)
        live = live_version(conn)
        live_model, live_refused = None, None
        if live is not None:
            try:
                live_model = load_model(conn, live, actions, skills)
            except ModelRefused as refused:
                live_refused = str(refused)
    if len(transitions) == 0:
        raise LearningError(
            "no rated events to train on: run `vacrec simulate` or collect feedback"
        )

    note(f"training on {len(transitions)} transitions")
    result = train(transitions, actions, skills, config)
    candidate = QModel(result.network, actions, skills)

    note("off-policy evaluation")
    ope: dict[str, Any] = {}
    diff = None
    try:
        evaluator = OfflineEvaluator.from_transitions(
            transitions, len(actions), len(skills), seed=config.seed
        )
    except ValueError:
        evaluator = None
    if evaluator is not None:
        pi_candidate = evaluator.greedy(candidate)
        ope["candidate"] = as_dicts(evaluator.estimate(pi_candidate))
        if live_model is not None:
            pi_live = evaluator.greedy(live_model)
            ope["live"] = as_dicts(evaluator.estimate(pi_live))
            diff = evaluator.difference(pi_candidate, pi_live)
            ope["dr_difference"] = diff.to_dict()
        ope["logged_rows"] = len(evaluator)

    if promote_mode == "always":
        do_promote, reason = True, "promote=always"
    elif promote_mode == "never":
        do_promote, reason = False, "promote=never"
    elif live_model is None:
        do_promote = True
        reason = "no live model" if live_refused is None else f"live model refused: {live_refused}"
    elif diff is None:
        do_promote, reason = False, "no logged propensities to compare against the live model"
    else:
        do_promote = diff.low > 0
        reason = f"DR difference {diff.value:+.3f} [95% CI {diff.low:+.3f}, {diff.high:+.3f}] " + (
            "is above 0" if do_promote else "is not clearly above 0"
        )

    first, last = transitions.time_range()
    meta = {
        "actions": list(actions),
        "skills": list(skills),
        "encoding_version": ENCODING_VERSION,
        "data": {
            "first_event": first.isoformat() if first else None,
            "last_event": last.isoformat() if last else None,
            "transitions": len(transitions),
            "legacy": int((~transitions.known_propensity).sum()),
            "dropped": transitions.dropped,
        },
        "metrics": {"final_loss": result.final_loss, "ope": ope.get("candidate", {})},
        "ope": ope,
        "loss_curve": [round(float(x), 6) for x in result.loss_curve],
        "updates": result.updates,
        "training": {
            "seconds": result.seconds,
            "samples_per_second": result.samples_per_second,
            "stopping": result.stopping,
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in result.config.items()},
        },
        "promotion_rule": PROMOTION_RULE,
    }
    with engine.begin() as conn:
        version = save_model(conn, result.network, meta)
        if do_promote:
            promote(conn, version, reason)

    report = {
        "version": version,
        "transitions": len(transitions),
        "seconds": round(result.seconds, 3),
        "samples_per_second": round(result.samples_per_second, 1),
        "final_loss": result.final_loss,
        "promoted": do_promote,
        "promotion_reason": reason,
        "ope": ope,
        "updates": result.updates,
        "stopping": result.stopping,
        "live_before": live,
    }
    note("writing report")
    report["report"] = write_training_report(
        settings.reports_dir, report, result.loss_curve, result.updates
    )
    return report


def evaluate_store(engine: Engine, settings: Settings, seed: int = 0) -> dict[str, Any]:
    """OPE of the live model, the newest candidate, uniform random and most-popular."""
    from vacrec.agent.registry import ModelRefused, live_version, load_model, newest_version
    from vacrec.agent.skills import skill_vocabulary
    from vacrec.agent.transitions import load_transitions
    from vacrec.evaluation.offline import OfflineEvaluator, as_dicts
    from vacrec.store.catalog import catalog_industries

    skills = skill_vocabulary(settings.extra_skills)
    with engine.connect() as conn:
        actions = tuple(catalog_industries(conn))
        if not actions:
            raise LearningError("the catalog is empty: run `vacrec ingest` first")
        transitions = load_transitions(conn, actions, skills)
        try:
            evaluator = OfflineEvaluator.from_transitions(
                transitions, len(actions), len(skills), seed=seed
            )
        except ValueError as error:
            raise LearningError(str(error)) from error
        out: dict[str, Any] = {"logged_rows": len(evaluator), "policies": {}}
        versions = {"live": live_version(conn), "candidate": newest_version(conn)}
        for name, version in versions.items():
            if version is None:
                continue
            entry: dict[str, Any] = {"version": version}
            try:
                model = load_model(conn, version, actions, skills)
                entry.update(as_dicts(evaluator.estimate(evaluator.greedy(model))))
            except ModelRefused as refused:
                entry["refused"] = str(refused)
            out["policies"][name] = entry
    out["policies"]["random"] = as_dicts(evaluator.estimate(evaluator.uniform()))
    action, pi = evaluator.most_popular()
    out["policies"]["most_popular"] = {
        "industry": actions[action],
        **as_dicts(evaluator.estimate(pi)),
    }
    return out


def simulate_into_store(
    engine: Engine,
    settings: Settings,
    events: int,
    seed: int,
    progress: Any = None,
    source: str = "simulator",
) -> dict[str, Any]:
    """Simulated job seekers use the real service layer; events and feedback land in the store."""
    from vacrec.agent.skills import skill_vocabulary
    from vacrec.ranking.snapshot import SnapshotHolder
    from vacrec.service.model_holder import ModelHolder
    from vacrec.service.recommender import Recommender
    from vacrec.simulate.runner import env_from_catalog, run_simulation

    snapshots = SnapshotHolder(engine, settings.catalog_poll_s)
    if snapshots.current is None or not snapshots.current.actions:
        raise LearningError("the catalog is empty: run `vacrec ingest` first")
    models = ModelHolder(engine, settings, settings.model_poll_s)
    models.refresh_if_changed()
    service = Recommender(engine, settings, snapshots, models, seed=seed)
    with engine.connect() as conn:
        env = env_from_catalog(
            conn, skill_vocabulary(settings.extra_skills), settings.simulator_seed
        )
    summary = run_simulation(service, env, events, seed=seed, source=source, progress=progress)
    current = models.current
    return {
        **summary.to_dict(),
        "epsilon": settings.epsilon,
        "model_version": current.version if current is not None else None,
    }


def simulate_over_http(
    url: str, settings: Settings, events: int, seed: int, progress: Any = None
) -> dict[str, Any]:
    """Simulated job seekers use a running server's HTTP API (its own ε applies).

    The simulator shows ``k`` vacancies per industry in its expectations, since the
    server's catalog counts are not visible over the API.
    """
    import httpx

    from vacrec.agent.skills import skill_vocabulary
    from vacrec.simulate.env import JobSeekerEnv
    from vacrec.simulate.http import HttpRecommender
    from vacrec.simulate.runner import run_simulation

    with httpx.Client(base_url=url, timeout=30) as client:
        service = HttpRecommender(url, client)
        try:
            industries = service.industries()
            if not industries:
                raise LearningError(f"{url} serves no catalog yet")
            env = JobSeekerEnv(
                industries, skill_vocabulary(settings.extra_skills), seed=settings.simulator_seed
            )
            summary = run_simulation(service, env, events, seed=seed, progress=progress)
            version = service.model_version()
        except httpx.HTTPError as error:
            raise LearningError(f"{url}: {error}") from error
    return {**summary.to_dict(), "url": url, "model_version": version}
