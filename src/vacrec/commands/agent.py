"""`vacrec train | evaluate | model … | simulate`: the learning loop from the command line.

``train_from_store`` is the whole retraining step (load logs → train → evaluate
off-policy against the live model → register → maybe promote → report), so
``vacrec serve``'s periodic retraining can call the same function.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from vacrec.commands._output import print_json, spinner, stderr
from vacrec.config import Settings, get_settings

model_app = typer.Typer(help="Model registry: list, promote, roll back.", no_args_is_help=True)


class PromoteMode(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


PROMOTION_RULE = (
    "auto: promote when there is no usable live model, or when the paired-bootstrap 95% "
    "lower bound of DR(candidate greedy) − DR(live greedy) is above 0"
)


class CommandError(Exception):
    """A command cannot do what was asked; the message is for the user."""


def _engine(settings: Settings) -> Engine:
    from vacrec.store.db import make_engine, migrate

    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return engine


def _fail(message: str, as_json: bool, code: int = 1) -> typer.Exit:
    stderr.print(f"[red]error:[/red] {message}")
    if as_json:
        print_json({"error": message})
    return typer.Exit(code)


# --------------------------------------------------------------------------- training


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
            raise CommandError("the catalog is empty: run `vacrec ingest` first")
        transitions = load_transitions(conn, actions, skills)
        live = live_version(conn)
        live_model, live_refused = None, None
        if live is not None:
            try:
                live_model = load_model(conn, live, actions, skills)
            except ModelRefused as refused:
                live_refused = str(refused)
    if len(transitions) == 0:
        raise CommandError("no rated events to train on: run `vacrec simulate` or collect feedback")

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


def _train_command(
    episodes: Annotated[
        int | None,
        typer.Option(
            "--episodes", min=1, help="Fixed number of updates (default: from data size)."
        ),
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    promote: Annotated[PromoteMode, typer.Option("--promote")] = PromoteMode.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train from the logged events, evaluate off-policy, register and maybe promote."""
    from vacrec.agent.trainer import TrainConfig

    settings = get_settings()
    overrides: dict[str, Any] = {"seed": seed, "updates": episodes}
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    config = TrainConfig(**overrides)
    engine = _engine(settings)
    try:
        with spinner("train") as progress:
            task = progress.add_task("starting")
            report = train_from_store(
                engine,
                settings,
                config,
                promote.value,
                lambda msg: progress.update(task, description=msg),
            )
    except CommandError as error:
        raise _fail(str(error), as_json) from error
    finally:
        engine.dispose()
    if as_json:
        print_json(report)
        return
    print(
        f"model {report['version']}: {report['transitions']} transitions, {report['updates']} "
        f"updates in {report['seconds']:.2f} s ({report['samples_per_second']:,.0f} samples/s), "
        f"final loss {report['final_loss']:.4f}"
    )
    cand = report["ope"].get("candidate", {})
    if cand:
        print("candidate greedy: " + ", ".join(f"{k} {v['value']:.3f}" for k, v in cand.items()))
    print(f"promoted: {report['promoted']} ({report['promotion_reason']})")


# --------------------------------------------------------------------------- evaluate


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
            raise CommandError("the catalog is empty: run `vacrec ingest` first")
        transitions = load_transitions(conn, actions, skills)
        try:
            evaluator = OfflineEvaluator.from_transitions(
                transitions, len(actions), len(skills), seed=seed
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
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


def _evaluate_command(
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimates as JSON.")] = False,
) -> None:
    """Off-policy estimates (IPS, SNIPS, DR with 95% CIs) of live, candidate and baselines."""
    settings = get_settings()
    engine = _engine(settings)
    try:
        with spinner("evaluate") as progress:
            progress.add_task("off-policy evaluation")
            result = evaluate_store(engine, settings, seed)
    except CommandError as error:
        raise _fail(str(error), as_json) from error
    finally:
        engine.dispose()
    if as_json:
        print_json(result)
        return
    print(f"{result['logged_rows']} logged events with propensities")
    for name, entry in result["policies"].items():
        if "refused" in entry:
            print(f"{name:13s} refused: {entry['refused']}")
            continue
        cells = [
            f"{k} {entry[k]['value']:+.3f} [{entry[k]['low']:+.3f}, {entry[k]['high']:+.3f}]"
            for k in ("ips", "snips", "dr")
            if k in entry
        ]
        print(f"{name:13s} " + "  ".join(cells))


# --------------------------------------------------------------------------- model registry


def _model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List registered models (the live one is marked)."""
    from vacrec.agent.registry import list_models

    settings = get_settings()
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            infos = list_models(conn)
    finally:
        engine.dispose()
    rows = [
        {
            "version": info.version,
            "created_at": info.created_at.isoformat(),
            "live": info.live,
            "transitions": (info.meta.get("data") or {}).get("transitions"),
            "final_loss": (info.meta.get("metrics") or {}).get("final_loss"),
            "dr": ((info.meta.get("metrics") or {}).get("ope") or {}).get("dr", {}).get("value"),
            "checksum": info.checksum,
        }
        for info in infos
    ]
    if as_json:
        print_json({"models": rows, "live": next((r["version"] for r in rows if r["live"]), None)})
        return
    if not rows:
        print("no models registered yet: run `vacrec train`")
    for r in rows:
        mark = "*" if r["live"] else " "
        dr = f"{r['dr']:+.3f}" if isinstance(r["dr"], float) else "n/a"
        print(f"{mark} {r['version']:4d}  {r['created_at']}  n={r['transitions']}  DR {dr}")


def _checked(conn: Any, version: int, settings: Settings) -> None:
    """Refuse to make live a model that this catalog and build cannot serve."""
    from vacrec.agent.registry import load_model
    from vacrec.agent.skills import skill_vocabulary
    from vacrec.store.catalog import catalog_industries

    load_model(
        conn, version, tuple(catalog_industries(conn)), skill_vocabulary(settings.extra_skills)
    )


def _model_promote(
    version: Annotated[int, typer.Argument(help="Model version to make live.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make VERSION the live model (replicas switch on their next poll)."""
    from vacrec.agent.registry import ModelRefused, RegistryError, promote

    settings = get_settings()
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            _checked(conn, version, settings)
            promote(conn, version, "manual promote")
    except (ModelRefused, RegistryError) as error:
        raise _fail(str(error), as_json) from error
    finally:
        engine.dispose()
    if as_json:
        print_json({"live": version})
    else:
        print(f"model {version} is live")


def _model_rollback(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Go back to the previously promoted model."""
    from vacrec.agent.registry import ModelRefused, RegistryError, live_version, rollback

    settings = get_settings()
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            before = live_version(conn)
            version = rollback(conn, "manual rollback")
            _checked(conn, version, settings)  # raising rolls the transaction back
    except (ModelRefused, RegistryError) as error:
        raise _fail(str(error), as_json) from error
    finally:
        engine.dispose()
    if as_json:
        print_json({"live": version, "previous": before})
    else:
        print(f"rolled back from model {before} to model {version}")


# --------------------------------------------------------------------------- simulate


def simulate_into_store(
    engine: Engine, settings: Settings, events: int, seed: int, progress: Any = None
) -> dict[str, Any]:
    """Simulated job seekers use the real service layer; events and feedback land in the store."""
    from vacrec.agent.skills import skill_vocabulary
    from vacrec.ranking.snapshot import SnapshotHolder
    from vacrec.service.model_holder import ModelHolder
    from vacrec.service.recommender import Recommender
    from vacrec.simulate.runner import env_from_catalog, run_simulation

    snapshots = SnapshotHolder(engine, settings.catalog_poll_s)
    if snapshots.current is None or not snapshots.current.actions:
        raise CommandError("the catalog is empty: run `vacrec ingest` first")
    models = ModelHolder(engine, settings, settings.model_poll_s)
    models.refresh_if_changed()
    service = Recommender(engine, settings, snapshots, models, seed=seed)
    with engine.connect() as conn:
        env = env_from_catalog(
            conn, skill_vocabulary(settings.extra_skills), settings.simulator_seed
        )
    summary = run_simulation(service, env, events, seed=seed, progress=progress)
    current = models.current
    return {
        **summary.to_dict(),
        "epsilon": settings.epsilon,
        "model_version": current.version if current is not None else None,
    }


def _simulate_command(
    events: Annotated[int, typer.Option("--events", min=1, help="Requests to simulate.")],
    seed: Annotated[int, typer.Option("--seed")] = 0,
    epsilon: Annotated[
        float | None, typer.Option("--epsilon", min=0.0, max=1.0, help="Override VACREC_EPSILON.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Simulated job seekers request, vote and send feedback through the service layer."""
    settings = get_settings()
    if epsilon is not None:
        settings = settings.model_copy(update={"epsilon": epsilon})
    engine = _engine(settings)
    try:
        try:
            from vacrec.commands.serve import ensure_catalog

            ensure_catalog(engine)  # first run: the bundled demo catalog
        except ImportError:
            pass
        with spinner("simulate") as progress:
            task = progress.add_task(f"0/{events} events")
            summary = simulate_into_store(
                engine,
                settings,
                events,
                seed,
                lambda done: progress.update(task, description=f"{done}/{events} events"),
            )
    except CommandError as error:
        raise _fail(str(error), as_json) from error
    finally:
        engine.dispose()
    if as_json:
        print_json(summary)
        return
    print(
        f"{summary['events']} events from {summary['users']} users "
        f"({summary['sessions']} multi-request sessions): mean reward "
        f"{summary['mean_reward']:+.3f} (oracle {summary['mean_oracle']:+.3f}), "
        f"ε={summary['epsilon']}, model {summary['model_version']}"
    )


def register(app: typer.Typer) -> None:
    """Add train, evaluate, simulate and the model group to ``app``."""
    app.command("train")(_train_command)
    app.command("evaluate")(_evaluate_command)
    app.command("simulate")(_simulate_command)
    model_app.command("list")(_model_list)
    model_app.command("promote")(_model_promote)
    model_app.command("rollback")(_model_rollback)
    app.add_typer(model_app, name="model")
