"""The learning loop's steps, shared by the commands and the server.

Each function is one whole step over the store: load the demo catalog into an
empty store, simulate job seekers through the real service layer, train a
candidate and decide on its promotion, and evaluate policies off-policy.
``vacrec`` commands and ``vacrec serve``'s background retraining call these,
so the CLI and the server cannot drift apart.

There is no bootstrap from simulated users: before any feedback the content
prior serves (the industry whose postings best match the seeker's words), and
it stays the champion until a trained model beats it off-policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine

from vacrec.config import Settings
from vacrec.domain import as_utc
from vacrec.evaluation.trust import RewardDrift, cap_client_share, holdout_mask, reward_drift

if TYPE_CHECKING:
    from vacrec.agent.context import ContextEncoder
    from vacrec.agent.transitions import Transitions
    from vacrec.ranking.snapshot import CatalogSnapshot
    from vacrec.store.transitions import TrainWindow

log = logging.getLogger(__name__)

HOLDOUT_SHARE = 0.2
"""A seeded fifth of each action's rated events, across time and clients, is kept out of
training and used to compare the candidate with the serving policy: judged on events it
never saw. Not the newest fifth: after a flood, those would be the flood's own."""


class LearningError(Exception):
    """A step cannot run on this store (empty catalog, no feedback); the message says why."""


class NothingNew(LearningError):
    """No rated event arrived since the newest model was trained on the same logs: a
    training now would register a copy of it (and a timer or a loop, one per tick)."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"no new feedback since model {version} was trained: nothing trained or registered"
        )
        self.version = version


@dataclass(frozen=True)
class LogSelection:
    """Which logged events a training or an evaluation reads."""

    simulated: bool = False
    legacy: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> LogSelection:
        return cls(simulated=settings.train_on_simulated, legacy=settings.train_on_legacy)


def read_training_logs(
    engine: Engine, settings: Settings, selection: LogSelection
) -> tuple[CatalogSnapshot, ContextEncoder, Transitions]:
    """The current catalog's snapshot, its context encoder and the selected transitions."""
    from vacrec.agent.context import ContextEncoder
    from vacrec.agent.skills import skill_texts
    from vacrec.app.snapshots import load_snapshot
    from vacrec.app.training_logs import load_transitions

    snapshot = load_snapshot(engine)
    if not snapshot.actions:
        raise LearningError("the catalog is empty: run `vacrec ingest` first")
    skills = settings.skill_vocabulary.skills
    encoder = ContextEncoder(snapshot, skill_texts(skills))
    with engine.connect() as conn:
        transitions = load_transitions(
            conn,
            encoder,
            include_simulated=selection.simulated,
            include_legacy=selection.legacy,
            window=training_window(settings),
        )
    return snapshot, encoder, transitions


def training_window(settings: Settings) -> TrainWindow:
    """The window of rated events training and evaluation read (off unless set)."""
    from vacrec.store.transitions import TrainWindow

    return TrainWindow(events=settings.train_window_events, days=settings.train_window_days)


def retrain_once(engine: Engine, settings: Settings) -> dict[str, object] | None:
    """One retraining step, exactly as `vacrec train` does it (promotes only if clearly better).

    Workers pick a promoted model up through the registry poll; nothing restarts.
    Returns the training report, or None when there is nothing to train on yet.
    """
    try:
        report = train_from_store(engine, settings, promote_mode="auto", only_if_new=True)
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


def _no_new_feedback(engine: Engine, selection: LogSelection) -> int | None:
    """The newest model's version when it was trained on these same logs (the same choice of
    simulated events, no feedback since that the selection reads), else None."""
    from vacrec.app.registry import newest_model
    from vacrec.store.feedback import newest_feedback_id

    with engine.connect() as conn:
        newest = newest_model(conn)
        last = newest_feedback_id(conn, include_simulated=selection.simulated)
    if newest is None or newest.meta is None:
        return None
    data = newest.meta.data
    if data.simulated_included != selection.simulated:
        return None
    seen = data.newest_feedback_id
    return newest.version if seen is not None and seen == last else None


def _recent_reward_drift(engine: Engine, transitions: Transitions) -> RewardDrift | None:
    """Rewards logged since the newest model was registered against those before it (with
    no model yet: the newest fifth against the rest)."""
    from vacrec.app.registry import newest_model

    with engine.connect() as conn:
        newest = newest_model(conn)
    times = transitions.times
    if not times.size:
        return None
    if newest is not None:
        since = np.datetime64(as_utc(newest.created_at).astimezone(UTC).replace(tzinfo=None), "us")
        recent = times > since
    else:
        recent = np.zeros(len(transitions), dtype=bool)
        newest_first = np.argsort(times, kind="stable")[::-1]
        recent[newest_first[: round(HOLDOUT_SHARE * len(times))]] = True
    return reward_drift(transitions.rewards[~recent], transitions.rewards[recent])


def train_from_store(
    engine: Engine,
    settings: Settings,
    config: Any = None,
    promote_mode: str = "auto",
    progress: Any = None,
    selection: LogSelection | None = None,
    only_if_new: bool = False,
    allow_simulated: bool = False,
) -> dict[str, Any]:
    """Train a candidate from the logs, evaluate it off-policy against the champion (the live
    model, or the content prior), register it, and promote it if the rule says so.

    One training at a time per database (``training_lock``): a second one waits, then
    compares its candidate with whatever the first left live. ``only_if_new`` refuses
    (:class:`NothingNew`) when no feedback arrived since the newest model was trained on
    the same logs, checked under the lock, so replicas retraining on the same timer train
    once, not once each. A candidate trained with simulated events is promoted only with
    ``allow_simulated`` (the operator's explicit word), whatever ``promote_mode`` says.
    """
    from vacrec.store.locks import LockTimeout, training_lock

    selection = selection or LogSelection.from_settings(settings)
    try:
        with training_lock(engine, settings.train_lock_wait_s):
            stale = _no_new_feedback(engine, selection) if only_if_new else None
            if stale is not None:
                raise NothingNew(stale)
            return _train_and_decide(
                engine, settings, config, promote_mode, progress, selection, allow_simulated
            )
    except LockTimeout as busy:
        raise LearningError(str(busy)) from None


def _train_and_decide(
    engine: Engine,
    settings: Settings,
    config: Any,
    promote_mode: str,
    progress: Any,
    selection: LogSelection,
    allow_simulated: bool,
) -> dict[str, Any]:
    from vacrec.agent.model_meta import ModelMeta, Promotion, TrainingData
    from vacrec.agent.policy import CONTENT_PRIOR
    from vacrec.agent.trainer import TrainConfig, train
    from vacrec.app.registry import ModelRefused, live_version, load_model, promote, save_model
    from vacrec.evaluation.offline import OfflineEvaluator, as_dicts
    from vacrec.evaluation.promotion import RULE, decide_promotion
    from vacrec.evaluation.report import write_training_report

    note = progress or (lambda _msg: None)
    config = config or TrainConfig()
    note("reading logged events")
    from vacrec.store.feedback import newest_feedback_id

    with engine.connect() as conn:
        # read first: later rows are new next time
        feedback_seen = newest_feedback_id(conn, include_simulated=selection.simulated)
    _, _, transitions = read_training_logs(engine, settings, selection)
    if len(transitions) == 0:
        raise LearningError(_nothing_to_learn(selection))
    with engine.connect() as conn:
        live = live_version(conn)
        champion, champion_name = CONTENT_PRIOR, "content prior"
        if live is not None:
            try:
                champion, champion_name = load_model(conn, live), f"live model {live}"
            except ModelRefused as refused:
                champion_name = f"content prior (live model refused: {refused})"

    rng = np.random.default_rng(config.seed)
    logged = len(transitions)
    transitions = transitions.subset(
        cap_client_share(
            transitions.clients,
            settings.train_max_client_share,
            settings.train_min_client_rows,
            rng,
        )
    )
    drift = _recent_reward_drift(engine, transitions)
    held = holdout_mask(transitions.actions, HOLDOUT_SHARE, rng)
    older, newest = transitions.subset(~held), transitions.subset(held)
    note(
        f"training on {len(older)} transitions, {len(newest)} held out "
        f"({logged - len(transitions)} over a client's share left out)"
    )
    result = train(older, config)
    candidate = result.model

    note("off-policy evaluation on the held-out events")
    ope: dict[str, Any] = {}
    diff = None
    try:
        evaluator = OfflineEvaluator.from_transitions(newest, seed=config.seed)
    except ValueError:
        evaluator = None
    if evaluator is not None:
        pi_candidate = evaluator.greedy(candidate)
        pi_champion = evaluator.greedy(champion)
        ope["candidate"] = as_dicts(evaluator.estimate(pi_candidate))
        ope["champion"] = as_dicts(evaluator.estimate(pi_champion))
        diff = evaluator.difference(pi_candidate, pi_champion)
        ope["dr_difference"] = diff.to_dict()
        ope["logged_rows"] = len(evaluator)
    decision = decide_promotion(
        promote_mode,  # type: ignore[arg-type]
        champion_name,
        diff,
        drift=drift,
        drift_threshold=settings.promotion_drift_threshold,
        simulated=selection.simulated,
        allow_simulated=allow_simulated,
        held_out=len(evaluator) if evaluator is not None else None,
        min_held_out=settings.promotion_min_held_out,
    )

    first, last = older.time_range()
    meta = ModelMeta.model_validate(
        {
            "data": TrainingData(
                first_event=first.isoformat() if first else None,
                last_event=last.isoformat() if last else None,
                transitions=len(older),
                held_out=len(newest),
                over_client_share=logged - len(transitions),
                newest_feedback_id=feedback_seen,
                legacy=int((~older.known_propensity).sum()),
                simulated_included=selection.simulated,
                dropped=transitions.dropped,
                window=training_window(settings).to_dict(),
            ),
            "final_loss": result.final_loss,
            "ope": {k: v for k, v in ope.items() if k in ("candidate", "champion")},
            "dr_difference": ope.get("dr_difference"),
            "promotion": Promotion(
                promoted=decision.promote,
                held=decision.held,
                reason=decision.reason,
                champion=champion_name,
                rule=RULE,
                drift=drift.to_dict() if drift is not None else None,
            ),
            "loss_curve": [round(float(x), 6) for x in result.loss_curve],
            "updates": result.updates,
            "training": {
                "seconds": result.seconds,
                "samples_per_second": result.samples_per_second,
                "stopping": result.stopping,
                "config": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in result.config.items()
                },
            },
        }
    )
    with engine.begin() as conn:
        version = save_model(conn, candidate, meta)
        if decision.promote:
            promote(conn, version, decision.reason)

    report = {
        "version": version,
        "transitions": logged,
        "trained_on": len(older),
        "held_out": len(newest),
        "seconds": round(result.seconds, 3),
        "samples_per_second": round(result.samples_per_second, 1),
        "final_loss": result.final_loss,
        "registered": True,
        "promoted": decision.promote,
        "held_for_operator": decision.held,
        "promotion_reason": decision.reason,
        "over_client_share": logged - len(transitions),
        "drift": drift.to_dict() if drift is not None else None,
        "champion": champion_name,
        "ope": ope,
        "updates": result.updates,
        "stopping": result.stopping,
        "live_before": live,
        "simulated_included": selection.simulated,
        "window": training_window(settings).to_dict(),
    }
    note("writing report")
    report["report"] = write_training_report(
        settings.reports_dir, report, result.loss_curve, result.updates
    )
    return report


def _simulated_hint(selection: LogSelection) -> str:
    return "" if selection.simulated else " (simulated events count only with --simulated)"


def _nothing_to_learn(selection: LogSelection) -> str:
    return (
        f"no rated events to train on{_simulated_hint(selection)}: "
        "collect feedback or run `vacrec simulate`"
    )


def evaluate_store(
    engine: Engine, settings: Settings, seed: int = 0, selection: LogSelection | None = None
) -> dict[str, Any]:
    """OPE of the live model, the newest candidate, the content prior, uniform random and
    most-popular on the selected logs."""
    from vacrec.agent.policy import CONTENT_PRIOR
    from vacrec.app.registry import ModelRefused, live_version, load_model, newest_version
    from vacrec.evaluation.offline import OfflineEvaluator, as_dicts

    selection = selection or LogSelection.from_settings(settings)
    snapshot, _, transitions = read_training_logs(engine, settings, selection)
    try:
        evaluator = OfflineEvaluator.from_transitions(transitions, seed=seed)
    except ValueError as error:
        raise LearningError(f"{error}{_simulated_hint(selection)}") from error
    out: dict[str, Any] = {
        "logged_rows": len(evaluator),
        "simulated_included": selection.simulated,
        "policies": {},
    }
    with engine.connect() as conn:
        versions = {"live": live_version(conn), "candidate": newest_version(conn)}
        for name, version in versions.items():
            if version is None:
                continue
            if name == "candidate" and version == versions["live"]:
                out["policies"][name] = {"version": version, "same_as": "live"}
                continue
            entry: dict[str, Any] = {"version": version}
            try:
                model = load_model(conn, version)
                entry.update(as_dicts(evaluator.estimate(evaluator.greedy(model))))
            except ModelRefused as refused:
                entry["refused"] = str(refused)
            out["policies"][name] = entry
    out["policies"]["content_prior"] = as_dicts(evaluator.estimate(evaluator.greedy(CONTENT_PRIOR)))
    out["policies"]["random"] = as_dicts(evaluator.estimate(evaluator.uniform()))
    action, pi = evaluator.most_popular()
    out["policies"]["most_popular"] = {
        "industry": snapshot.actions[action],
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
    taste: str = "independent",
    blank_share: float = 0.0,
) -> dict[str, Any]:
    """Simulated job seekers use the real service layer; their events land in the store marked
    with ``source`` (simulated: kept out of training and evaluation unless asked for)."""
    from vacrec.service.recommender import Recommender
    from vacrec.simulate.env import JobSeekerEnv
    from vacrec.simulate.runner import run_simulation

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
    url: str, settings: Settings, engine: Engine, events: int, seed: int, progress: Any = None
) -> dict[str, Any]:
    """Simulated job seekers use a running server's HTTP API (its own ε applies).

    The seekers are drawn from the catalog in this process's store (``engine``),
    which must be the server's: their wishes and votes come from its postings.
    The server records these events as real traffic (it cannot tell).
    """
    import httpx

    from vacrec.app.snapshots import load_snapshot
    from vacrec.simulate.env import JobSeekerEnv
    from vacrec.simulate.http import HttpRecommender
    from vacrec.simulate.runner import run_simulation

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
