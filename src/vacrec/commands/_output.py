"""Shared output conventions of the commands: one JSON object as the last stdout line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

stderr = Console(stderr=True)


def print_json(payload: dict[str, object]) -> None:
    """Print ``payload`` as one line of JSON on stdout (the machine-readable result).

    Cyrillic is printed as itself, like everything else the tool prints. A stdout
    that cannot encode it (``PYTHONIOENCODING=ascii``, a Latin-1 locale) gets the
    ``\\u`` escapes instead: the same JSON, rather than a crash.
    """
    try:
        print(json.dumps(payload, ensure_ascii=False, default=str))
    except UnicodeEncodeError:
        print(json.dumps(payload, default=str))


@contextmanager
def spinner(title: str) -> Iterator[Progress]:
    """A Rich progress display on stderr, so stdout stays clean for ``--json``."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        yield progress
