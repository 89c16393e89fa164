"""`vacrec collect`: fresh vacancies from the hh.ru API into a JSONL file (and the store)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vacrec.commands._hh_options import Area, MaxPages
from vacrec.commands._output import emit, fail, open_store, stderr
from vacrec.config import Settings, get_settings

if TYPE_CHECKING:
    from vacrec.collect import CollectParams, CollectSummary, HHClient


def register(app: typer.Typer) -> None:
    """Add the collect command to ``app``."""
    app.command("collect")(collect_command)


def collect_command(
    query: Annotated[str, typer.Option("--query", help="Search text, as on hh.ru.")],
    area: Area = None,
    max_pages: MaxPages = None,
    per_page: Annotated[
        int, typer.Option("--per-page", min=1, max=100, help="Results per search page.")
    ] = 100,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="JSONL to append to; a rerun resumes it.", dir_okay=False),
    ] = None,
    ingest: Annotated[
        bool, typer.Option("--ingest", help="Write under $VACREC_HOME/collect and ingest it.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=32, help="Detail requests in flight.")
    ] = 4,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            help="Name of the environment variable with an OAuth token "
            "(default: $VACREC_HH_TOKEN when set).",
        ),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="API base URL (default: $VACREC_HH_API_URL).")
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", min=0.01, help="Requests per second (default: $VACREC_HH_RATE_PER_S)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Lines written and fsynced together.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Collect vacancies: search pages first, then full vacancy details, politely."""
    from vacrec.collect import CollectParams, HHClient, RetryPolicy, SearchFailed
    from vacrec.collect.client import token_refused_message
    from vacrec.collect.collector import OutputFileError

    settings = get_settings()
    if out is not None and ingest:
        fail("use either --out FILE.jsonl or --ingest, not both", as_json, code=2)
    if not query.strip():
        fail("--query must not be empty", as_json, code=2)
    token = _token(token_env, as_json) or (
        settings.hh_token.get_secret_value() if settings.hh_token else None
    )
    path = out if out is not None else _default_path(settings, query, area)
    params = CollectParams(
        query=query, area=area, per_page=per_page, max_pages=max_pages,
        concurrency=concurrency, batch_size=batch_size,
    )  # fmt: skip
    try:
        client = HHClient(
            api_url or settings.hh_api_url,
            settings.hh_user_agent,
            token=token,
            rate_per_s=rate or settings.hh_rate_per_s,
            timeout_s=settings.hh_timeout_s,
            retry=RetryPolicy(max_attempts=settings.hh_max_attempts),
        )
    except ValueError as exc:
        fail(str(exc), as_json, code=2)
    try:
        summary = asyncio.run(_run(client, params, path))
    except SearchFailed as exc:
        error = exc.error
        refused = token_refused_message(error, has_token=token is not None)
        if refused:
            fail(refused, as_json, details={"cause": error.cause, "status": error.status})
        details = {"cause": error.cause, "url": error.url, "status": error.status}
        fail(str(exc), as_json, details={**details, "attempts": error.attempts})
    except OutputFileError as exc:
        fail(str(exc), as_json, code=2)

    result: dict[str, object] = summary.to_dict()
    if ingest:
        # Always when the file holds vacancies: ingest is idempotent, and a run killed
        # between collecting and ingesting leaves lines that a rerun writes no more.
        has_lines = path.exists() and path.stat().st_size > 0
        result["ingest"] = _ingest(settings, path) if has_lines else None
    emit(result, as_json, lambda r: _say_collected(summary, path, r.get("ingest")))


def _say_collected(summary: CollectSummary, path: Path, report: object) -> None:
    failures = ", ".join(f"{k} {v}" for k, v in sorted(summary.failures.items())) or "none"
    where = path if path.exists() else f"{path} (not created: nothing to write)"
    print(
        f"{summary.pages} pages, {summary.found} found; wrote {summary.written} vacancies to "
        f"{where} (skipped {summary.skipped_existing} already there); {summary.retries} retries; "
        f"failures: {failures}; industries by role category "
        f"{summary.industry_sources.get('role_category', 0)}, "
        f"left to the classifier {summary.industry_sources.get('unmapped', 0)}"
    )
    if report:
        assert isinstance(report, dict)
        print(
            f"ingested: inserted {report['inserted']}, updated {report['updated']}, "
            f"{report['vacancies']} vacancies in {report['industries']} industries"
        )


async def _run(client: HHClient, params: CollectParams, path: Path) -> CollectSummary:
    """Drive the collection under a Rich progress bar on stderr."""
    from vacrec.collect import collect
    from vacrec.collect.collector import Progress as Hooks

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    async with client:
        with Progress(*columns, console=stderr, transient=False) as bar:
            pages = bar.add_task("search pages", total=None)
            details = bar.add_task("vacancies", total=None)
            hooks = Hooks(
                on_pages=lambda done, total: bar.update(pages, completed=done, total=total),
                on_details_total=lambda n: bar.update(details, total=n),
                on_detail=lambda: bar.advance(details),
            )
            return await collect(client, params, path, hooks)


def _ingest(settings: Settings, path: Path) -> dict[str, object]:
    """Feed the collected file through the same reader as ``vacrec ingest``."""
    from vacrec.app.ingest import ingest_paths

    with open_store(settings) as engine:
        return ingest_paths(engine, [path]).as_dict()


def _default_path(settings: Settings, query: str, area: str | None) -> Path:
    """A stable file per query and area under ``$VACREC_HOME/collect``, so reruns resume."""
    slug = re.sub(r"[^\w]+", "-", query.strip().lower()).strip("-")[:60] or "query"
    return settings.home / "collect" / f"{slug}{'-area' + area if area else ''}.jsonl"


def _token(name: str | None, as_json: bool) -> str | None:
    """The OAuth token from the named variable; only the variable's name is ever shown."""
    if name is None:
        return None
    value = os.environ.get(name, "").strip()
    if not value:
        fail(f"--token-env: environment variable {name} is not set or empty", as_json, code=2)
    return value
