"""The encoder's term vectors kept on disk between snapshot builds, across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from tests.ranking.ranking_fixtures import ART, write_catalog
from vacrec.app import term_vectors
from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking import meaning

# A fresh process builds the store's snapshot into its own folder and says whether it
# loaded the encoder, which terms it held and what the meaning side ranks first.
BUILD = """
import json, sys
from pathlib import Path
from vacrec.app.snapshots import load_snapshot
from vacrec.ranking import meaning
from vacrec.store.db import make_engine
snapshot = load_snapshot(make_engine(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({
    "encoder_loaded": meaning.encoder.cache_info().currsize,
    "terms": meaning.encoded_count(),
    "ranked": [[v, round(s, 6)] for v, s in snapshot.top_k(sys.argv[3], "акварель", 5).items],
}))
"""


def _build_in_a_new_process(url: str, snapshots: Path, vectors: Path) -> dict[str, object]:
    env = {**os.environ, "VACREC_TERM_VECTOR_FOLDER": str(vectors)}
    done = subprocess.run(
        [sys.executable, "-c", BUILD, url, str(snapshots), ART],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_later_build_in_another_process_loads_no_encoder(
    engine: Engine, catalog: list[CatalogRecord], tmp_path: Path
) -> None:
    write_catalog(engine, catalog)
    url = engine.url.render_as_string(hide_password=False)
    vectors = tmp_path / "vectors"

    first = _build_in_a_new_process(url, tmp_path / "snapshots-a", vectors)
    saved = term_vectors.vector_file(vectors)
    assert first["encoder_loaded"] == 1 and saved.exists()
    with np.load(saved) as held:
        assert len(held["terms"]) == first["terms"] > 0
        assert held["vectors"].shape == (first["terms"], 512)

    second = _build_in_a_new_process(url, tmp_path / "snapshots-b", vectors)
    assert second["encoder_loaded"] == 0  # every term came from the file
    assert second["ranked"] == first["ranked"] and first["ranked"]


def test_an_unreadable_file_is_ignored_then_replaced(tmp_path: Path) -> None:
    path = term_vectors.vector_file(tmp_path)
    path.write_bytes(b"not an npz")
    assert term_vectors.load_into_meaning(path) == 0

    meaning.remember(["акварель"], np.ones((1, 512), np.float32))
    with term_vectors.kept_in(tmp_path):
        pass  # a build that encoded nothing new: the process still holds more than the file
    with np.load(path) as held:
        assert "акварель" in set(held["terms"].tolist())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".term-vectors-")]


def test_the_file_is_named_for_the_encoder_release(tmp_path: Path) -> None:
    version = metadata.version(term_vectors.ENCODER_PACKAGE)
    assert term_vectors.vector_file(tmp_path).name == f"term-vectors-{version}.npz"
