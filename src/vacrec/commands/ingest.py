"""`vacrec ingest`: load vacancy files into the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from vacrec.commands._output import emit, fail, open_store, spinner, stderr, stderr_progress
from vacrec.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vacrec.app.ingest import IngestProgress, IngestReport


def register(app: typer.Typer) -> None:
    """Add the ingest command to ``app``."""
    app.command("ingest")(ingest_command)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Catalog files: .xlsx, .json, .jsonl, .csv")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete vacancies that are not in these files.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load vacancies (upsert by id; idempotent; one transaction)."""
    from vacrec.app.ingest import ingest_paths
    from vacrec.catalog.readers import CatalogFileError

    try:
        with open_store(get_settings()) as engine, ExitStack() as reserved:
            with _progress_bar() as note:
                report = ingest_paths(
                    engine, paths, replace=replace, progress=note, reserve_snapshot=reserved
                )
            # Built here under the lock the ingest took before committing: servers wait
            # for it and map it rather than build it on the cores that serve.
            snapshot_s = _save_snapshot(engine) if report.catalog_version is not None else None
    except CatalogFileError as exc:
        fail(str(exc), as_json, code=2)

    summary = {**report.as_dict(), "snapshot_seconds": snapshot_s}
    emit(summary, as_json, lambda _: _say_ingested(report, snapshot_s))


def _say_ingested(report: IngestReport, snapshot_s: float | None) -> None:
    for rejection in report.rejections[:20]:
        stderr.print(f"rejected {rejection['source']}:{rejection['row']}: {rejection['reason']}")
    if report.replaced_demo:
        print(f"replaced the bundled demo catalog ({report.deleted} example vacancies removed)")
    print(
        f"read {report.read}, inserted {report.inserted}, updated {report.updated}, "
        f"unchanged {report.unchanged}, skipped duplicates {report.skipped_duplicates}, "
        f"rejected {report.rejected}; {report.vacancies} vacancies in "
        f"{report.industries} industries (catalog version {report.catalog_version})"
    )
    if snapshot_s is not None:
        print(f"serving snapshot built and saved in {snapshot_s} s")


@contextmanager
def _progress_bar() -> Iterator[Callable[[IngestProgress], None]]:
    """A bar on stderr over the input's bytes, with vacancies read, their rate and an ETA."""
    with stderr_progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[read]:,} rows, {task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("opening", total=None, read=0, rate=0.0)
        started = time.monotonic()

        def note(at: IngestProgress) -> None:
            rate = at.read / max(time.monotonic() - started, 1e-6)
            bar.update(
                task, description=at.stage, completed=at.done_bytes, total=at.total_bytes,
                read=at.read, rate=rate,
            )  # fmt: skip

        yield note


def _save_snapshot(engine: Engine) -> float | None:
    """:func:`~vacrec.app.ingest.save_serving_snapshot` behind a spinner; None (and a line on
    stderr) when the build failed."""
    from vacrec.app.ingest import save_serving_snapshot

    try:
        with spinner("serving snapshot") as progress:
            progress.add_task("building the serving snapshot", total=None)
            return save_serving_snapshot(engine)
    except (OSError, MemoryError, RuntimeError) as exc:
        stderr.print(f"the catalog is ingested, but its serving snapshot was not saved: {exc}")
        return None
