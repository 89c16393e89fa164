"""What every command shares: one JSON object as the last stdout line, progress and errors
on stderr, and the store opened and closed the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

from vacrec.finite import dumps

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vacrec.config import Settings

stderr = Console(stderr=True)
Result = TypeVar("Result", bound=Mapping[str, Any])


def print_json(payload: Mapping[str, object]) -> None:
    """Print ``payload`` as one line of JSON on stdout (the machine-readable result).

    Cyrillic is printed as itself, like everything else the tool prints. A stdout
    that cannot encode it (``PYTHONIOENCODING=ascii``, a Latin-1 locale) gets the
    ``\\u`` escapes instead: the same JSON, rather than a crash. An undefined number
    (NaN, ±Infinity) is printed as null: JSON has no other way to say it.
    """
    try:
        print(dumps(payload, ensure_ascii=False, default=str))
    except UnicodeEncodeError:
        print(dumps(payload, default=str))


def emit(result: Result, as_json: bool, prose: Callable[[Result], None]) -> None:
    """Print a command's result once: as the JSON line under ``--json``, else as ``prose``
    for people (so every command's stdout is either machine-readable or not)."""
    if as_json:
        print_json(result)
    else:
        prose(result)


def stderr_progress(*columns: str | ProgressColumn) -> Progress:
    """A Rich progress display of these columns on stderr, so stdout stays clean for
    ``--json``; it disappears when done."""
    return Progress(*columns, console=stderr, transient=True)


@contextmanager
def spinner(title: str) -> Iterator[Progress]:
    """A spinner with the current step and the time so far."""
    with stderr_progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn()
    ) as progress:
        yield progress


def fail(
    message: str, as_json: bool, code: int = 1, details: dict[str, object] | None = None
) -> NoReturn:
    """End the command: one error line on stderr (file names, URLs and server text are not
    Rich markup), the same as JSON on stdout under ``--json``, and exit status ``code``
    (1: the step failed; 2: the command line or an input file is wrong)."""
    stderr.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    if as_json:
        print_json({"error": message, **(details or {})})
    raise typer.Exit(code)


@contextmanager
def open_store(settings: Settings) -> Iterator[Engine]:
    """An engine on the configured database, migrated to the newest schema, disposed after."""
    from vacrec.store.db import make_engine, migrate

    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
