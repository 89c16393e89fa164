"""Train, evaluate, promote: one use case over the store, shared by `vacrec train` and the
background retraining of `vacrec serve`, so the command and the server cannot drift apart.

A training reads the logged transitions, leaves out what one client rated beyond its
share, holds a seeded fifth out, trains a candidate on the rest, compares it off-policy
on the held-out events with the champion (the live model, or the content prior), then
registers it and promotes it if the rule (:mod:`vacrec.evaluation.promotion`) says so.

There is no bootstrap from simulated users: before any feedback the content prior serves
(the industry whose postings best match the seeker's words), and it stays the champion
until a trained model beats it off-policy.

This module loads torch (through the agent's trainer and policies): the commands that only
need to parse options import it lazily, so `vacrec --help` and `vacrec ingest` start
without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, NotRequired, TypedDict

import numpy as np
from sqlalchemy import Engine

from vacrec.agent.context import ContextEncoder
from vacrec.agent.model_meta import (
    Estimate,
    ModelMeta,
    PromotionRecord,
    TrainingData,
    TrainingWindow,
)
from vacrec.agent.policy import CONTENT_PRIOR, Policy
from vacrec.agent.skills import skill_texts
from vacrec.agent.trainer import TrainConfig, TrainResult, train
from vacrec.agent.transitions import Transitions
from vacrec.app.registry import (
    ModelRefused,
    live_version,
    load_model,
    newest_model,
    newest_version,
    promote,
    save_model,
)
from vacrec.app.snapshots import load_snapshot
from vacrec.app.training_logs import load_transitions
from vacrec.config import Settings
from vacrec.domain import as_utc
from vacrec.evaluation.offline import OfflineEvaluator, as_dicts
from vacrec.evaluation.promotion import RULE, PromoteMode, PromotionDecision, decide_promotion
from vacrec.evaluation.report import write_training_report
from vacrec.evaluation.trust import RewardDrift, cap_client_share, holdout_mask, reward_drift
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.store.feedback import newest_feedback_id
from vacrec.store.locks import LockTimeout, training_lock

__all__ = [
    "HOLDOUT_SHARE",
    "LearningError",
    "LogSelection",
    "NothingNew",
    "OpeComparison",
    "TrainingReport",
    "evaluate_store",
    "read_training_logs",
    "retrain_once",
    "train_from_store",
    "training_window",
]

log = logging.getLogger(__name__)

HOLDOUT_SHARE = 0.2
"""A seeded fifth of each action's rated events, across time and clients, is kept out of
training and used to compare the candidate with the serving policy: judged on events it
never saw. Not the newest fifth: after a flood, those would be the flood's own."""

Progress = Callable[[str], object]
"""Told what a long step is doing now (a spinner's description)."""


EstimateDicts = dict[str, dict[str, float | int | None]]
"""Estimator ("ips", "snips", "dr") → its estimate as JSON (``evaluation.offline.as_dicts``)."""


class OpeComparison(TypedDict, total=False):
    """The candidate and the champion on the held-out events; empty when no held-out event
    has a logged propensity to compare them on."""

    candidate: EstimateDicts
    champion: EstimateDicts
    dr_difference: dict[str, float | int | None]  # paired bootstrap of DR(candidate) − DR(champion)
    logged_rows: int


class TrainingReport(TypedDict):
    """What one training did, as `vacrec train --json` prints it and the report file keeps."""

    version: int
    transitions: int  # rated events read, before the client-share cap
    trained_on: int
    held_out: int
    seconds: float
    samples_per_second: float
    final_loss: float
    registered: bool
    promoted: bool
    held_for_operator: bool
    promotion_reason: str
    over_client_share: int
    drift: dict[str, float | int] | None
    champion: str
    ope: OpeComparison
    updates: int
    stopping: str
    live_before: int | None
    simulated_included: bool
    window: dict[str, int | float | None]
    report: NotRequired[dict[str, str]]  # the files written: png, json, markdown


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


# --------------------------------------------------------------------------- reading the logs


def training_window(settings: Settings) -> TrainingWindow:
    """The window of rated events training and evaluation read (off unless set)."""
    return TrainingWindow(events=settings.train_window_events, days=settings.train_window_days)


def read_training_logs(
    engine: Engine, settings: Settings, selection: LogSelection
) -> tuple[CatalogSnapshot, ContextEncoder, Transitions]:
    """The current catalog's snapshot, its context encoder and the selected transitions."""
    snapshot = load_snapshot(engine)
    if not snapshot.actions:
        raise LearningError("the catalog is empty: run `vacrec ingest` first")
    encoder = ContextEncoder(snapshot, skill_texts(settings.skill_vocabulary.skills))
    with engine.connect() as conn:
        transitions = load_transitions(
            conn,
            encoder,
            include_simulated=selection.simulated,
            include_legacy=selection.legacy,
            window=training_window(settings),
        )
    return snapshot, encoder, transitions


# --------------------------------------------------------------------------- training


def retrain_once(engine: Engine, settings: Settings) -> TrainingReport | None:
    """One retraining step, exactly as `vacrec train` does it (promotes only if clearly better).

    Workers pick a promoted model up through the registry poll; nothing restarts.
    Returns the training report, or None when there is nothing to train on yet.
    """
    try:
        report = train_from_store(engine, settings, promote_mode=PromoteMode.auto, only_if_new=True)
    except LearningError as reason:
        log.info("background retraining skipped: %s", reason)
        return None
    log.info(
        "background retraining: version %s, promoted=%s (%s)",
        report["version"],
        report["promoted"],
        report["promotion_reason"],
    )
    return report


def train_from_store(
    engine: Engine,
    settings: Settings,
    config: TrainConfig | None = None,
    promote_mode: PromoteMode = PromoteMode.auto,
    progress: Progress | None = None,
    selection: LogSelection | None = None,
    only_if_new: bool = False,
    allow_simulated: bool = False,
) -> TrainingReport:
    """Train a candidate from the logs, evaluate it off-policy against the champion (the live
    model, or the content prior), register it, and promote it if the rule says so.

    One training at a time per database (``training_lock``): a second one waits, then
    compares its candidate with whatever the first left live. ``only_if_new`` refuses
    (:class:`NothingNew`) when no feedback arrived since the newest model was trained on
    the same logs, checked under the lock, so replicas retraining on the same timer train
    once, not once each. A candidate trained with simulated events is promoted only with
    ``allow_simulated`` (the operator's explicit word), whatever ``promote_mode`` says.
    """
    selection = selection or LogSelection.from_settings(settings)
    try:
        with training_lock(engine, settings.train_lock_wait_s):
            stale = _no_new_feedback(engine, selection) if only_if_new else None
            if stale is not None:
                raise NothingNew(stale)
            return _train_and_decide(
                engine,
                settings,
                config or TrainConfig(),
                promote_mode,
                progress or (lambda _msg: None),
                selection,
                allow_simulated,
            )
    except LockTimeout as busy:
        raise LearningError(str(busy)) from None


def _train_and_decide(
    engine: Engine,
    settings: Settings,
    config: TrainConfig,
    promote_mode: PromoteMode,
    note: Progress,
    selection: LogSelection,
    allow_simulated: bool,
) -> TrainingReport:
    """The training itself, under the lock: read, split, train, compare, decide, register."""
    note("reading logged events")
    with engine.connect() as conn:
        # read first: later rows are new next time
        feedback_seen = newest_feedback_id(conn, include_simulated=selection.simulated)
    _, _, transitions = read_training_logs(engine, settings, selection)
    if len(transitions) == 0:
        raise LearningError(_nothing_to_learn(selection))
    live, champion, champion_name = _champion(engine)

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

    note("off-policy evaluation on the held-out events")
    ope, diff, compared_on = _compare(newest, result.model, champion, config.seed)
    decision = decide_promotion(
        promote_mode,
        champion_name,
        diff,
        drift=drift,
        drift_threshold=settings.promotion_drift_threshold,
        simulated=selection.simulated,
        allow_simulated=allow_simulated,
        held_out=compared_on,
        min_held_out=settings.promotion_min_held_out,
    )

    first, last = older.time_range()
    data = TrainingData(
        first_event=first.isoformat() if first else None,
        last_event=last.isoformat() if last else None,
        transitions=len(older),
        held_out=len(newest),
        over_client_share=logged - len(transitions),
        newest_feedback_id=feedback_seen,
        legacy=int((~older.known_propensity).sum()),
        simulated_included=selection.simulated,
        dropped=transitions.dropped,
        window=training_window(settings),
    )
    meta = _model_meta(data, result, ope, decision, champion_name, drift)
    with engine.begin() as conn:
        version = save_model(conn, result.model, meta)
        if decision.promote:
            promote(conn, version, decision.reason)

    report: TrainingReport = {
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


def _champion(engine: Engine) -> tuple[int | None, Policy, str]:
    """The live version, and the policy a candidate must beat with its name: the live model,
    or the content prior when none is live or the live one cannot be loaded."""
    with engine.connect() as conn:
        live = live_version(conn)
        if live is None:
            return None, CONTENT_PRIOR, "content prior"
        try:
            return live, load_model(conn, live), f"live model {live}"
        except ModelRefused as refused:
            return live, CONTENT_PRIOR, f"content prior (live model refused: {refused})"


def _compare(
    held_out: Transitions, candidate: Policy, champion: Policy, seed: int
) -> tuple[OpeComparison, Estimate | None, int | None]:
    """OPE of both greedy policies on the held-out events, the paired DR difference, and how
    many events compared them (None, None with no logged propensity to compare on)."""
    try:
        evaluator = OfflineEvaluator.from_transitions(held_out, seed=seed)
    except ValueError:
        return {}, None, None
    pi_candidate = evaluator.greedy(candidate)
    pi_champion = evaluator.greedy(champion)
    ope: OpeComparison = {
        "candidate": as_dicts(evaluator.estimate(pi_candidate)),
        "champion": as_dicts(evaluator.estimate(pi_champion)),
    }
    diff = evaluator.difference(pi_candidate, pi_champion)
    ope["dr_difference"] = diff.to_dict()
    ope["logged_rows"] = len(evaluator)
    return ope, diff, len(evaluator)


def _model_meta(
    data: TrainingData,
    result: TrainResult,
    ope: OpeComparison,
    decision: PromotionDecision,
    champion_name: str,
    drift: RewardDrift | None,
) -> ModelMeta:
    """What the registry keeps about the candidate: its data, training, OPE and decision."""
    return ModelMeta.model_validate(
        {
            "data": data,
            "final_loss": result.final_loss,
            "ope": {k: v for k, v in ope.items() if k in ("candidate", "champion")},
            "dr_difference": ope.get("dr_difference"),
            "promotion": PromotionRecord(
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


def _no_new_feedback(engine: Engine, selection: LogSelection) -> int | None:
    """The newest model's version when it was trained on these same logs (the same choice of
    simulated events, no feedback since that the selection reads), else None."""
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


def _simulated_hint(selection: LogSelection) -> str:
    return "" if selection.simulated else " (simulated events count only with --simulated)"


def _nothing_to_learn(selection: LogSelection) -> str:
    return (
        f"no rated events to train on{_simulated_hint(selection)}: "
        "collect feedback or run `vacrec simulate`"
    )


# --------------------------------------------------------------------------- evaluation


def evaluate_store(
    engine: Engine, settings: Settings, seed: int = 0, selection: LogSelection | None = None
) -> dict[str, Any]:
    """OPE of the live model, the newest candidate, the content prior, uniform random and
    most-popular on the selected logs."""
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
