"""The ``vacrec`` command: one Typer app assembled from ``vacrec.commands``."""

from __future__ import annotations

import typer

from vacrec.commands import agent, bench, collect, ingest, serve

app = typer.Typer(
    name="vacrec",
    help="A job-vacancy recommender that learns from its users.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """A job-vacancy recommender that learns from its users."""


for module in (ingest, collect, serve, bench, agent):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
