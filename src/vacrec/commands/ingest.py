"""`vacrec ingest`: load vacancy files into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vacrec.commands._output import fail, open_store, print_json, spinner, stderr
from vacrec.config import get_settings


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
    from vacrec.catalog.readers import CatalogFileError
    from vacrec.store.ingest import ingest_paths

    try:
        with open_store(get_settings()) as engine, spinner("ingest") as progress:
            task = progress.add_task("reading")

            def note(message: str) -> None:
                progress.update(task, description=message)

            report = ingest_paths(engine, paths, replace=replace, progress=note)
    except CatalogFileError as exc:
        fail(str(exc), as_json, code=2)

    summary = report.as_dict()
    if as_json:
        print_json(summary)
        return
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
