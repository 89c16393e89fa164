"""The temporary store a benchmark works in: a fresh SQLite file with the catalog ingested."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from vacrec.store.db import make_engine, migrate


@contextmanager
def catalog_store(
    catalog: Path, purpose: str, note: Callable[[str], None]
) -> Iterator[tuple[Engine, Path]]:
    """(engine, home) of a temporary store holding ``catalog``; removed afterwards."""
    from vacrec.app.ingest import ingest_paths

    with tempfile.TemporaryDirectory(prefix=f"vacrec-{purpose.replace(' ', '-')}-") as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'bench.db'}")
        try:
            migrate(engine)
            note(f"ingesting {catalog.name}")
            ingest_paths(engine, [catalog], source=purpose)
            yield engine, home
        finally:
            engine.dispose()
