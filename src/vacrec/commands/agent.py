"""`vacrec train | evaluate | model … | simulate`: the learning loop from the command line.

The steps themselves live in :mod:`vacrec.learning`, shared with ``vacrec serve``;
these commands parse options, show progress and print the result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from vacrec.commands._output import fail, open_store, print_json, spinner
from vacrec.config import Settings, get_settings
from vacrec.learning import (
    LearningError,
    LogSelection,
    evaluate_store,
    simulate_into_store,
    simulate_over_http,
    train_from_store,
)


class PromoteMode(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def _selection(settings: Settings, simulated: bool | None) -> LogSelection:
    selection = LogSelection.from_settings(settings)
    return selection if simulated is None else LogSelection(simulated, selection.legacy)


SimulatedOption = Annotated[
    bool | None,
    typer.Option(
        "--simulated/--real-only",
        help="Include simulated events (`vacrec simulate`); default: VACREC_TRAIN_ON_SIMULATED.",
        show_default=False,
    ),
]


# --------------------------------------------------------------------------- training


def train_command(
    updates: Annotated[
        int | None,
        typer.Option(
            "--updates",
            "--episodes",  # the original's name for it, kept for its scripts
            min=1,
            help="Fixed number of gradient updates (default: derived from the data size).",
        ),
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    promote: Annotated[PromoteMode, typer.Option("--promote")] = PromoteMode.auto,
    simulated: SimulatedOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train from the logged events, evaluate off-policy against the serving policy, register
    and promote only if clearly better."""
    from vacrec.agent.trainer import TrainConfig

    settings = get_settings()
    overrides: dict[str, Any] = {"seed": seed, "updates": updates}
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    config = TrainConfig(**overrides)
    try:
        with open_store(settings) as engine, spinner("train") as progress:
            task = progress.add_task("starting")
            report = train_from_store(
                engine,
                settings,
                config,
                promote.value,
                lambda msg: progress.update(task, description=msg),
                _selection(settings, simulated),
            )
    except LearningError as error:
        fail(str(error), as_json)
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


def evaluate_command(
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    simulated: SimulatedOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimates as JSON.")] = False,
) -> None:
    """Off-policy estimates (IPS, SNIPS, DR with 95% CIs) of live, candidate, content prior
    and baselines."""
    settings = get_settings()
    try:
        with open_store(settings) as engine, spinner("evaluate") as progress:
            progress.add_task("off-policy evaluation")
            result = evaluate_store(engine, settings, seed, _selection(settings, simulated))
    except LearningError as error:
        fail(str(error), as_json)
    if as_json:
        print_json(result)
        return
    print(f"{result['logged_rows']} logged events with propensities")
    for name, entry in result["policies"].items():
        if "refused" in entry:
            print(f"{name:13s} refused: {entry['refused']}")
            continue
        if "same_as" in entry:
            print(f"{name:13s} version {entry['version']}: the live model itself")
            continue
        cells = [
            f"{k} {entry[k]['value']:+.3f} [{entry[k]['low']:+.3f}, {entry[k]['high']:+.3f}]"
            for k in ("ips", "snips", "dr")
            if k in entry
        ]
        print(f"{name:13s} " + "  ".join(cells))


# --------------------------------------------------------------------------- model registry


def model_list_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List registered models (the live one is marked)."""
    from vacrec.app.registry import list_models

    with open_store(get_settings()) as engine, engine.connect() as conn:
        infos = list_models(conn)
    rows = [
        {
            "version": info.version,
            "created_at": info.created_at.isoformat(),
            "live": info.live,
            "transitions": info.meta.data.transitions if info.meta else None,
            "final_loss": info.meta.final_loss if info.meta else None,
            "dr": (info.meta.candidate_dr.value if info.meta and info.meta.candidate_dr else None),
            "checksum": info.checksum,
        }
        for info in infos
    ]
    if as_json:
        print_json({"models": rows, "live": next((r["version"] for r in rows if r["live"]), None)})
        return
    if not rows:
        print("no models registered yet: run `vacrec train`")
        return
    print("live version  created_at                        transitions  DR (candidate)")
    for r in rows:
        mark = "*" if r["live"] else " "
        dr = f"{r['dr']:+.3f}" if isinstance(r["dr"], float) else "n/a"
        print(f"{mark:>4} {r['version']:7d}  {r['created_at']:32s}  {r['transitions']!s:>11}  {dr}")


def _checked(conn: Any, version: int) -> None:
    """Refuse to make live a model that this build cannot load."""
    from vacrec.app.registry import load_model

    load_model(conn, version)


def model_promote_command(
    version: Annotated[int, typer.Argument(help="Model version to make live.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make VERSION the live model (replicas switch on their next poll)."""
    from vacrec.app.registry import ModelRefused, RegistryError, promote

    try:
        with open_store(get_settings()) as engine, engine.begin() as conn:
            _checked(conn, version)
            promote(conn, version, "manual promote")
    except (ModelRefused, RegistryError) as error:
        fail(str(error), as_json)
    if as_json:
        print_json({"live": version})
    else:
        print(f"model {version} is live")


def model_rollback_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Go back to the previously promoted model."""
    from vacrec.app.registry import ModelRefused, RegistryError, live_version, rollback

    try:
        with open_store(get_settings()) as engine, engine.begin() as conn:
            before = live_version(conn)
            version = rollback(conn, "manual rollback")
            _checked(conn, version)  # raising rolls the transaction back
    except (ModelRefused, RegistryError) as error:
        fail(str(error), as_json)
    if as_json:
        print_json({"live": version, "previous": before})
    else:
        print(f"rolled back from model {before} to model {version}")


# --------------------------------------------------------------------------- simulate


def simulate_command(
    events: Annotated[int, typer.Option("--events", min=1, help="Requests to simulate.")],
    seed: Annotated[int, typer.Option("--seed")] = 0,
    epsilon: Annotated[
        float | None, typer.Option("--epsilon", min=0.0, max=1.0, help="Override VACREC_EPSILON.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Drive a running server over HTTP instead of the store."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Simulated job seekers request, vote and send feedback through the service layer.

    Their events are marked as simulated: `vacrec train --simulated` learns from them."""
    settings = get_settings()
    if epsilon is not None:
        settings = settings.model_copy(update={"epsilon": epsilon})
    try:
        with open_store(settings) as engine, spinner("simulate") as progress:
            task = progress.add_task(f"0/{events} events")

            def note(done: int) -> None:
                progress.update(task, description=f"{done}/{events} events")

            if url is not None:
                summary = simulate_over_http(url, settings, engine, events, seed, note)
            else:
                from vacrec.app.ingest import ensure_catalog  # lazy: loads scikit-learn

                ensure_catalog(engine)  # first run: the bundled demo catalog
                summary = simulate_into_store(engine, settings, events, seed, note)
    except LearningError as error:
        fail(str(error), as_json)
    if as_json:
        print_json(summary)
        return
    print(
        f"{summary['events']} events from {summary['users']} users "
        f"({summary['sessions']} multi-request sessions): mean reward "
        f"{summary['mean_reward']:+.3f} (oracle {summary['mean_oracle']:+.3f}), "
        f"model {summary['model_version']}"
    )


def register(app: typer.Typer) -> None:
    """Add train, evaluate, simulate and the model group to ``app``."""
    app.command("train")(train_command)
    app.command("evaluate")(evaluate_command)
    app.command("simulate")(simulate_command)
    models = typer.Typer(help="Model registry: list, promote, roll back.", no_args_is_help=True)
    models.command("list")(model_list_command)
    models.command("promote")(model_promote_command)
    models.command("rollback")(model_rollback_command)
    app.add_typer(models, name="model")
