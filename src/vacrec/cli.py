"""The ``vacrec`` command: one Typer app assembled from ``vacrec.commands``."""

from __future__ import annotations

import typer
from typer._click import Context  # typer vendors click and exports only its subclass
from typer.core import TyperGroup

from vacrec.commands import agent, bench, collect, ingest, refresh, serve
from vacrec.commands._output import fail
from vacrec.config import BadSettings, load_settings


class _SettingsCheckedGroup(TyperGroup):
    """Checks the settings once before any command (serve included) runs: a bad variable is
    one line naming it, as JSON too under ``--json``, and exit status 2 — never a traceback."""

    def invoke(self, ctx: Context) -> object:
        try:
            load_settings()
        except BadSettings as error:
            pending = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # the command's own
            fail(str(error), as_json="--json" in pending, code=2)
        return super().invoke(ctx)


app = typer.Typer(
    name="vacrec",
    help="A job-vacancy recommender that learns from its users.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_SettingsCheckedGroup,
)


@app.callback()
def main() -> None:
    """A job-vacancy recommender that learns from its users."""


for module in (ingest, collect, refresh, serve, bench, agent):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
