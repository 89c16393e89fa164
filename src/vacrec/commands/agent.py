"""`vacrec train | evaluate | model … | simulate`: the learning loop from the command line.

The steps themselves live in the application layer (:mod:`vacrec.app.training`, shared with
``vacrec serve``, and :mod:`vacrec.app.simulation`); these commands parse options, show
progress and print the result. They import those steps lazily: the steps load torch, and
every other `vacrec` command (and `--help`) starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from vacrec.commands._output import emit, fail, open_store, spinner
from vacrec.config import Settings, get_settings
from vacrec.evaluation.promotion import PromoteMode

if TYPE_CHECKING:
    from vacrec.app.training import LogSelection, NothingNew, TrainingReport


def _selection(settings: Settings, simulated: bool | None) -> LogSelection:
    from vacrec.app.training import LogSelection  # lazy: torch

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


AllowSimulatedOption = Annotated[
    bool,
    typer.Option(
        "--allow-simulated",
        help="Let a model trained with simulated events go live on real traffic (without "
        "it, such a model is registered but never promoted).",
    ),
]
PRIOR = "prior"


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
    allow_simulated: AllowSimulatedOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train from the logged events, evaluate off-policy against the serving policy, register
    and promote only if clearly better.

    With no rated event since the newest model was trained on the same logs, nothing is
    trained or registered (exit status 0; under --json, "version" is null)."""
    from vacrec.agent.trainer import TrainConfig
    from vacrec.app.training import LearningError, NothingNew, train_from_store  # lazy: torch

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
                promote,
                lambda msg: progress.update(task, description=msg),
                _selection(settings, simulated),
                only_if_new=True,
                allow_simulated=allow_simulated,
            )
    except NothingNew as unchanged:
        _nothing_registered(unchanged, as_json)
        return
    except LearningError as error:
        fail(str(error), as_json)
    emit(report, as_json, _say_trained)


def _say_trained(report: TrainingReport) -> None:
    print(
        f"model {report['version']}: {report['transitions']} transitions, {report['updates']} "
        f"updates in {report['seconds']:.2f} s ({report['samples_per_second']:,.0f} samples/s), "
        f"final loss {report['final_loss']:.4f}"
    )
    cand = report["ope"].get("candidate", {})
    if cand:
        print(
            "candidate greedy: "
            + ", ".join(f"{k} {_number(v['value'], '.3f')}" for k, v in cand.items())
        )
    print(f"promoted: {report['promoted']} ({report['promotion_reason']})")


def _number(value: float | None, spec: str) -> str:
    """An estimate's number for people; "n/a" where it is undefined (None)."""
    return "n/a" if value is None else format(value, spec)


def _nothing_registered(unchanged: NothingNew, as_json: bool) -> None:
    """Report a training that found nothing new: not a failure (a cron job or a loop runs it
    on a timer), but no version either, said in the same keys a training reports."""
    emit(
        {
            "version": None,
            "registered": False,
            "newest_version": unchanged.version,
            "reason": str(unchanged),
            "transitions": None,
            "seconds": None,
            "samples_per_second": None,
            "final_loss": None,
            "promoted": False,
            "ope": {},
        },
        as_json,
        lambda _: print(str(unchanged)),
    )


# --------------------------------------------------------------------------- evaluate


def evaluate_command(
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    simulated: SimulatedOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimates as JSON.")] = False,
) -> None:
    """Off-policy estimates (IPS, SNIPS, DR with 95% CIs) of live, candidate, content prior
    and baselines."""
    from vacrec.app.training import LearningError, evaluate_store  # lazy: torch

    settings = get_settings()
    try:
        with open_store(settings) as engine, spinner("evaluate") as progress:
            progress.add_task("off-policy evaluation")
            result = evaluate_store(engine, settings, seed, _selection(settings, simulated))
    except LearningError as error:
        fail(str(error), as_json)
    emit(result, as_json, _say_estimates)


def _say_estimates(result: dict[str, Any]) -> None:
    print(f"{result['logged_rows']} logged events with propensities")
    for name, entry in result["policies"].items():
        if "refused" in entry:
            print(f"{name:13s} refused: {entry['refused']}")
            continue
        if "same_as" in entry:
            print(f"{name:13s} version {entry['version']}: the live model itself")
            continue
        cells = [
            f"{k} {_number(entry[k]['value'], '+.3f')} "
            f"[{_number(entry[k]['low'], '+.3f')}, {_number(entry[k]['high'], '+.3f')}]"
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
            "held": bool(info.meta and info.meta.promotion.held),
            "simulated": bool(info.meta and info.meta.data.simulated_included),
            "reason": info.meta.promotion.reason if info.meta else None,
        }
        for info in infos
    ]
    live = next((r["version"] for r in rows if r["live"]), None)
    policy = "content prior" if live is None else "model"
    emit({"models": rows, "live": live, "policy": policy}, as_json, _say_models)


def _say_models(listing: dict[str, Any]) -> None:
    rows, live = listing["models"], listing["live"]
    if live is None:
        print("live: the content prior")
    if not rows:
        print("no models registered yet: run `vacrec train`")
        return
    print("live version  created_at                        transitions  DR (candidate)")
    for r in rows:
        mark = "*" if r["live"] else " "
        dr = f"{r['dr']:+.3f}" if isinstance(r["dr"], float) else "n/a"
        print(f"{mark:>4} {r['version']:7d}  {r['created_at']:32s}  {r['transitions']!s:>11}  {dr}")
        if r["held"]:
            print(f"{'':13s}{r['reason']}")


def _checked(conn: Any, version: int, allow_simulated: bool = True) -> None:
    """Refuse to make live a model that this build cannot load, or (unless allowed) one
    trained with simulated events."""
    from vacrec.app.registry import RegistryError, list_models, load_model

    load_model(conn, version)
    if allow_simulated:
        return
    info = next((i for i in list_models(conn) if i.version == version), None)
    if info is not None and info.meta is not None and info.meta.data.simulated_included:
        raise RegistryError(
            f"model {version} was trained with simulated events: it learned how the "
            "simulator's seekers rate, not real ones; add --allow-simulated to serve it to "
            "real traffic anyway"
        )


def _promoted_version(text: str, as_json: bool) -> int | None:
    """VERSION as given: a model version, or None for "prior"; else exit status 2."""
    if text.strip().lower() == PRIOR:
        return None
    try:
        return int(text)
    except ValueError:
        fail(f"VERSION: expected a model version or {PRIOR!r}, got {text!r}", as_json, code=2)


def model_promote_command(
    version: Annotated[
        str,
        typer.Argument(
            metavar="VERSION|prior",
            help="Model version to make live, or `prior` for the content prior.",
        ),
    ],
    allow_simulated: AllowSimulatedOption = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make VERSION the live model, or `prior` the content prior, at any time (replicas
    switch on their next poll; `vacrec model rollback` undoes it)."""
    from vacrec.app.registry import ModelRefused, RegistryError, promote, promote_prior

    target = _promoted_version(version, as_json)
    try:
        with open_store(get_settings()) as engine, engine.begin() as conn:
            if target is None:
                promote_prior(conn, "manual promote of the content prior")
            else:
                _checked(conn, target, allow_simulated)
                reason = "manual promote" + (" (simulated allowed)" if allow_simulated else "")
                promote(conn, target, reason)
    except (ModelRefused, RegistryError) as error:
        fail(str(error), as_json)
    policy = "content prior" if target is None else "model"
    emit({"live": target, "policy": policy}, as_json, _say_live)


def _say_live(promoted: dict[str, Any]) -> None:
    if promoted["live"] is None:
        print("the content prior is live")
    else:
        print(f"model {promoted['live']} is live")


def model_rollback_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Go back to what served before the live promotion (past the first model: the content
    prior)."""
    from vacrec.app.registry import (
        ModelRefused,
        RegistryError,
        live_version,
        rollback,
        serving_name,
    )

    try:
        with open_store(get_settings()) as engine, engine.begin() as conn:
            before = live_version(conn)
            version = rollback(conn, "manual rollback")
            if version is not None:
                _checked(conn, version)  # raising rolls the transaction back
    except (ModelRefused, RegistryError) as error:
        fail(str(error), as_json)
    policy = "content prior" if version is None else "model"
    emit(
        {"live": version, "previous": before, "policy": policy},
        as_json,
        lambda _: print(f"rolled back from {serving_name(before)} to {serving_name(version)}"),
    )


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
    from vacrec.app.simulation import simulate_into_store, simulate_over_http  # lazy: torch
    from vacrec.app.training import LearningError

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
    emit(summary, as_json, _say_simulated)


def _say_simulated(summary: dict[str, Any]) -> None:
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
