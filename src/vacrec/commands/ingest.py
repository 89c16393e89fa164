"""`vacrec ingest`: load vacancy files into the store."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ingest command to ``app``."""

    @app.command("ingest")
    def ingest_command() -> None:
        """Load vacancies (work in progress)."""
        raise typer.Exit(1)
