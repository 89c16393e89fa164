"""`vacrec bench`: benchmarks that print their figures (JSON with ``--json``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from vacrec.commands._output import emit, fail, spinner, stderr

SHARED_CATALOG = Path("../shared/data/hh_artist_vacancies_2023.xlsx")

AsJson = Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]
"""Every benchmark's ``--json``: its figures as one JSON line instead of prose."""
Seed = Annotated[int, typer.Option("--seed")]


def _catalog(help: str) -> Any:
    """The ``--catalog`` option of a benchmark (a path, the shared xlsx unless said)."""
    return typer.Option("--catalog", help=help)


def _measure(
    title: str, catalog: Path, run: Callable[..., dict[str, Any]], **options: Any
) -> dict[str, Any]:
    """Check ``--catalog``, then ``run`` it with a spinner showing its progress messages."""
    if not catalog.is_file():
        fail(f"--catalog: no such file: {catalog}", as_json=False, code=2)
    with spinner(title) as progress:
        task = progress.add_task("starting")
        return run(
            catalog,
            progress=lambda message: progress.update(task, description=message),
            **options,
        )


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to ``app``."""
    bench = typer.Typer(help="Benchmarks; the last stdout line is JSON with --json.")
    bench.command("serve")(bench_serve_command)
    bench.command("train")(bench_train_command)
    bench.command("relevance")(bench_relevance_command)
    bench.command("ingest")(bench_ingest_command)
    bench.command("scale")(bench_scale_command)
    bench.command("cards")(bench_cards_command)
    bench.command("load")(bench_load_command)
    app.add_typer(bench, name="bench")


def bench_serve_command(
    catalog: Annotated[
        Path, _catalog("Catalog file to serve (the shared xlsx by default).")
    ] = SHARED_CATALOG,
    http: Annotated[
        bool, typer.Option("--http/--no-http", help="Also measure the real server over HTTP.")
    ] = True,
    requests: Annotated[int, typer.Option("--requests", min=100, help="HTTP requests.")] = 2_000,
    model: Annotated[
        bool,
        typer.Option(
            "--model/--prior",
            help="Serve with a model live (it reads the expected card cosine), or the prior.",
        ),
    ] = False,
    scales: Annotated[
        list[int] | None,
        typer.Option("--scale", min=1, help="Catalog sizes timed in process (default 1 10 100)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Serving latency vs the original's per-request path, at 1×, 10×, 100× the catalog."""
    from vacrec.benchmarks.serve import SCALES, run

    figures = _measure(
        "bench serve",
        catalog,
        run,
        http=http,
        http_requests=requests,
        model=model,
        scales=tuple(scales or SCALES),
    )
    emit(figures, as_json, _say_serve)


def _say_serve(figures: dict[str, Any]) -> None:
    reference = figures["reference"]["median_ms"]
    print(f"original per-request path: {reference:.1f} ms (median, large industries)")
    if "http" in figures:
        ours = figures["http"]["median_ms_large"]
        print(f"POST /api/v1/recommendations: {ours:.2f} ms → {figures['speedup_http']}× faster")
    for size in figures["scaling"]["sizes"]:
        print(
            f"top_k at {size['scale']}× ({size['vacancies']} vacancies): "
            f"{size['top_k_median_ms']:.3f} ms, expected card cosine "
            f"{size['expected_cosine_median_ms']:.3f} ms, index {size['index_mb']} MB, "
            f"built in {size['build_s']} s"
        )


def bench_train_command(
    catalog: Annotated[
        Path, _catalog("Catalog to simulate on (the shared xlsx by default).")
    ] = SHARED_CATALOG,
    seeds: Annotated[
        list[int] | None,
        typer.Option("--seed", help="Seed(s) of the simulated population (default 0, 1, 2)."),
    ] = None,
    budgets: Annotated[
        list[int] | None,
        typer.Option(
            "--budget",
            min=100,
            help="Logged events each learner is trained on (default 4000 and 20000; with "
            "--curve 1000, 2000, 4000, 10000, 20000).",
        ),
    ] = None,
    curve: Annotated[
        Path | None,
        typer.Option("--curve", help="Also draw gap closed vs events to this file (.svg/.png)."),
    ] = None,
    tastes: Annotated[
        list[str] | None,
        typer.Option("--taste", help="Population(s): independent, contradicting (default both)."),
    ] = None,
    with_peers: Annotated[
        bool,
        typer.Option("--peers/--no-peers", help="Also train Vowpal Wabbit and LightGBM."),
    ] = True,
    blank_share: Annotated[
        float,
        typer.Option(
            "--blank-share",
            min=0.0,
            max=1.0,
            help="Share of simulated seekers who type nothing (1: all; they are served from "
            "age, skill and ratings alone).",
        ),
    ] = 0.0,
    fits: Annotated[
        int,
        typer.Option(
            "--fits",
            min=1,
            help="Train every learner this many times per log (trainer seeds S, S+100, …) and "
            "report the means: one fit's trainer seed alone moves a cell by up to 8 points.",
        ),
    ] = 1,
    adaptive_every: Annotated[
        int | None,
        typer.Option(
            "--adaptive-every",
            min=100,
            help="Also log adaptively: retrain and promote a model every N events, serving the "
            "next N with it (exploring where it is unsure), and train every learner on that "
            "log too (the `adaptive` section).",
        ),
    ] = None,
    events: Annotated[
        list[int] | None,
        typer.Option(
            "--events",
            min=1000,
            help="Instead: read (and train on) logs of this many synthetic rated events, "
            "e.g. --events 100000 --events 1000000 (time and peak memory).",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Gap closed on the catalog-grounded simulator (two populations) of vacrec's learner and
    its peers (Vowpal Wabbit, LightGBM) on the same logs, and training speed; with --events,
    training over big logs."""
    from vacrec.benchmarks.train import BUDGETS, CURVE_BUDGETS, SEEDS, TASTES, run, run_scale

    unknown = sorted(set(tastes or ()) - set(TASTES))
    if unknown:
        known = ", ".join(TASTES)
        fail(f"--taste: unknown population {unknown[0]!r}; one of {known}", as_json, code=2)

    if events:
        figures = _measure("bench train", catalog, run_scale, sizes=events)
        emit(figures, as_json, _say_big_logs)
        return
    chosen = budgets or list(CURVE_BUDGETS if curve is not None else BUDGETS)
    figures = _measure(
        "bench train",
        catalog,
        run,
        seeds=seeds or list(SEEDS),
        budgets=chosen,
        tastes=tastes or list(TASTES),
        with_peers=with_peers,
        adaptive_every=adaptive_every,
        blank_share=blank_share,
        fits=fits,
    )
    for name, why in figures["peers_missing"].items():
        stderr.print(f"[yellow]peer {name} skipped:[/] {why}")
    if curve is not None:
        from vacrec.benchmarks.train_plot import plot_learning_curves

        plot_learning_curves(figures, curve)
    emit(figures, as_json, _say_train)


def _say_big_logs(figures: dict[str, Any]) -> None:
    for size in figures["sizes"]:
        print(size)


def _say_train(figures: dict[str, Any]) -> None:
    print(
        f"vectorised: {figures['samples_per_second']:,.0f} samples/s; per-sample loop: "
        f"{figures['reference_samples_per_second']:,.0f} samples/s → {figures['ratio']}× "
        f"({figures['cores']} cores)"
    )
    for r in figures["runs"]:
        print(
            f"seed {r['seed']} {r['taste']:13s} greedy {r['greedy']:+.3f} vs random "
            f"{r['random']:+.3f} vs oracle {r['oracle']:+.3f}: gap closed {r['gap_closed']:.0%} "
            f"(content prior {r['content_prior_gap_closed']:.0%}, random rewards "
            f"{r['random_rewards_gap_closed']:.0%}); {r['updates']} updates in "
            f"{r['train_seconds']} s"
        )
    for taste, by_budget in figures["learners"].items():
        for budget, row in by_budget.items():
            cells = ", ".join(
                f"{name} {entry['gap_closed_mean']:.1%}"
                + (f" ({entry['train_seconds_mean']:.1f} s)" if "train_seconds" in entry else "")
                for name, entry in row.items()
            )
            print(f"{taste:13s} {budget:>6} events: {cells}")
    for taste, by_budget in figures.get("adaptive", {}).get("learners", {}).items():
        for budget, row in by_budget.items():
            cells = ", ".join(f"{n} {e['gap_closed_mean']:.1%}" for n, e in row.items())
            print(f"{taste:13s} {budget:>6} events, adaptive log: {cells}")


def bench_relevance_command(
    catalog: Annotated[
        Path, _catalog("Catalog with hh.ru industries (the shared xlsx).")
    ] = SHARED_CATALOG,
    seekers: Annotated[int, typer.Option("--seekers", min=10, help="Seekers to serve.")] = 300,
    seed: Seed = 0,
    trained: Annotated[
        bool, typer.Option("--trained/--no-trained", help="Also train and measure agents.")
    ] = True,
    as_json: AsJson = False,
) -> None:
    """First-request relevance: content prior vs plain search vs trained agents."""
    from vacrec.benchmarks.relevance import run

    figures = _measure("bench relevance", catalog, run, seekers=seekers, seed=seed, trained=trained)
    emit(figures, as_json, _say_relevance)


def _say_relevance(figures: dict[str, Any]) -> None:
    for name, f in figures["policies"].items():
        print(
            f"{name:30s} industry hit {f['industry_hit']:.2f}  posting in cards "
            f"{f['posting_in_cards']:.2f}  cards sharing its industry "
            f"{f['cards_sharing_industry']:.2f}"
        )


def bench_ingest_command(
    catalog: Annotated[
        Path, _catalog("Catalog to ingest (the shared xlsx by default).")
    ] = SHARED_CATALOG,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Cold runs to time.")] = 3,
    synthetic: Annotated[
        list[int] | None,
        typer.Option(
            "--synthetic",
            min=1,
            help="Instead, ingest a synthetic JSONL of N vacancies (repeatable): "
            "seconds and peak memory.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Wall time of a cold `vacrec ingest` (fresh process, fresh store) on the catalog."""
    from vacrec.benchmarks.ingest import run, run_synthetic

    if synthetic:
        figures = _measure("bench ingest", catalog, run_synthetic, sizes=synthetic)
    else:
        figures = _measure("bench ingest", catalog, run, repeats=repeats)
    emit(figures, as_json, _say_ingest)


def _say_ingest(figures: dict[str, Any]) -> None:
    if "sizes" not in figures:  # the cold runs on the catalog
        print(
            f"ingest {figures['counts']['inserted']} vacancies: {figures['median_seconds']} s "
            f"median ({figures['speedup_vs_original']}× the original's "
            f"{figures['original_seconds']} s)"
        )
        return
    for size in figures["sizes"]:
        print(
            f"ingest {size['vacancies']:,} vacancies ({size['file_mb']} MB JSONL): "
            f"{size['seconds']} s, {size['vacancies_per_second']:,}/s, peak RSS "
            f"{size['peak_rss_mb']} MB ({figures['cpu_count']} cores)"
        )


def bench_scale_command(
    catalog: Annotated[
        Path, _catalog("Postings to replicate (the shared xlsx by default).")
    ] = SHARED_CATALOG,
    sizes: Annotated[
        list[int] | None, typer.Option("--size", min=1, help="Catalog size(s) to measure.")
    ] = None,
    calls: Annotated[int, typer.Option("--calls", min=100, help="Requests per size.")] = 3_000,
    http_calls: Annotated[
        int,
        typer.Option("--http-calls", min=0, help="Requests over HTTP per size (0: no server)."),
    ] = 1_000,
    as_json: AsJson = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the growth curve to this PNG.")
    ] = None,
) -> None:
    """Snapshot build and load time, server memory and request latency at N vacancies."""
    from vacrec.benchmarks.scale import SIZES, run

    figures = _measure(
        "bench scale", catalog, run, sizes=sizes or list(SIZES), calls=calls, http_calls=http_calls
    )
    if plot is not None:
        from vacrec.benchmarks.scale_plot import plot_scale

        plot_scale(figures, plot)
    emit(figures, as_json, _say_scale)


def _say_scale(figures: dict[str, Any]) -> None:
    for s in figures["sizes"]:
        print(
            f"{s['vacancies']:>9,} vacancies: built in {s['build_s']} s, loaded in "
            f"{s['load_s']} s, RSS {s['rss_mb_after_requests']} MB "
            f"(anon {s['rss_anon_mb_after_requests']}, mapped {s['rss_file_mb_after_requests']}), "
            f"request median {s['request_median_ms']} ms, p99 {s['request_p99_ms']} ms; "
            f"from the store built in {s['build_from_store']['seconds']} s, peak RSS "
            f"{s['build_from_store']['vm_hwm_mb']} MB ({figures['cpu_count']} cores)"
        )
        if http := s["build_from_store"].get("http"):
            print(
                f"{'':>20}over HTTP: ready in {http['ready_s']} s, median {http['median_ms']} ms, "
                f"p99 {http['p99_ms']} ms, server RSS {http['server_rss_mb']} MB"
            )


def bench_cards_command(
    catalog: Annotated[
        Path, _catalog("Catalog to serve (the shared xlsx by default).")
    ] = SHARED_CATALOG,
    seekers: Annotated[
        int, typer.Option("--seekers", min=10, help="Seekers served for the seeker section.")
    ] = 200,
    seed: Seed = 0,
    events: Annotated[
        int, typer.Option("--events", min=100, help="Rated requests the votes learn from.")
    ] = 4_000,
    eval_seekers: Annotated[
        int, typer.Option("--eval-seekers", min=50, help="Seekers served greedily before/after.")
    ] = 1_000,
    section: Annotated[
        str,
        typer.Option(
            "--section", help="seeker (place, distinct jobs, clean text), learning, or all."
        ),
    ] = "all",
    as_json: AsJson = False,
) -> None:
    """Cards: what seekers see (place, distinct jobs, clean text, new cards after 👎) and
    whether per-vacancy votes push vacancies everyone dislikes out of the cards."""
    if section not in ("seeker", "learning", "all"):
        raise typer.BadParameter("must be seeker, learning or all", param_hint="--section")
    figures: dict[str, object] = {}
    if section in ("seeker", "all"):
        from vacrec.benchmarks.cards import run

        figures.update(_measure("bench cards", catalog, run, seekers=seekers, seed=seed))
    if section in ("learning", "all"):
        from vacrec.benchmarks.card_learning import run_learning

        figures["learning"] = _measure(
            "bench cards", catalog, run_learning, seed=seed, events=events,
            eval_seekers=eval_seekers,
        )  # fmt: skip
    emit(figures, as_json, _say_cards)


def _say_cards(figures: dict[str, object]) -> None:
    if "seeker" in figures:
        s = figures["seeker"]
        assert isinstance(s, dict)
        print(
            f"cards in the named place or remote: {s['place_share']} (without the place: "
            f"{s['place_share_without_place']}; {s['place_requests_counted']} requests)"
        )
        print(
            f"duplicate jobs per answer {s['duplicate_jobs_per_answer']}, cards with raw markup "
            f"{s['cards_with_raw_markup']} of {s['cards_checked']}, five new cards after all 👎 "
            f"{s['five_new_after_all_rejected']}; median {s['median_ms']} ms"
        )
    if "learning" in figures:
        learning = figures["learning"]
        assert isinstance(learning, dict)
        before, after = learning["before"], learning["after"]
        print(
            f"disliked vacancies among greedy cards: {before['disliked_share']:.3f} → "
            f"{after['disliked_share']:.3f} (fell by {learning['disliked_share_fell_by']:.0%}); "
            f"wanted posting among the five: {before['wanted_in_cards']:.3f} → "
            f"{after['wanted_in_cards']:.3f} after {learning['events']} rated requests "
            f"(seed {learning['seed']})"
        )


def bench_load_command(
    clients: Annotated[int, typer.Option("--clients", min=1, help="Concurrent seekers.")] = 32,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.5, help="Measured seconds of load.")
    ] = 30.0,
    workers: Annotated[int, typer.Option("--workers", min=1, help="vacrec serve workers.")] = 2,
    database: Annotated[
        str,
        typer.Option(
            "--database",
            help="sqlite (a temp file), postgres (a fresh schema at VACREC_TEST_POSTGRES_URL, "
            "dropped afterwards) or an SQLAlchemy URL of an empty database.",
        ),
    ] = "sqlite",
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog", help="Catalog to serve (the shared xlsx if present, else the demo)."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """N seekers recommend → feedback against `vacrec serve --workers N` on a fresh store;
    then every acknowledged rating is looked up in the database."""
    from vacrec.benchmarks.load import demo_catalog, run

    if database not in ("sqlite", "postgres") and "://" not in database:
        fail("--database: expected sqlite, postgres or an SQLAlchemy URL", as_json=False, code=2)
    with demo_catalog() as demo:
        chosen = catalog or (SHARED_CATALOG if SHARED_CATALOG.is_file() else demo)
        figures = _measure(
            "bench load",
            chosen,
            run,
            clients=clients,
            seconds=seconds,
            workers=workers,
            database=database,
        )
    emit(figures, as_json, _say_load)


def _say_load(figures: dict[str, Any]) -> None:
    print(
        f"{figures['database']}, {figures['workers']} workers, {figures['clients']} clients, "
        f"{figures['cores']} cores: {figures['requests_per_s']} req/s "
        f"({figures['pairs_per_s']} recommend+feedback pairs/s)"
    )
    for route, latency in figures["latency_ms"].items():
        print(f"{route}: p50 {latency['p50']} ms, p99 {latency['p99']} ms")
    print(
        f"errors {figures['errors']} (5xx: {figures['errors_5xx']}); acknowledged "
        f"{figures['acknowledged']}, stored {figures['stored']}, lost {figures['lost']}"
    )
