"""Snapshots saved to disk: built once per catalog version, then loaded by every process.

Normalising a million descriptions takes minutes; loading the arrays that come
out of it takes seconds. So the first process that needs a catalog version
builds its snapshot under a file lock and saves it as one folder of ``.npy``
files plus ``manifest.json``; every later process (a restart, another worker,
another replica on this host) memory-maps those files. Mapped pages are
shared by all processes of the host and the full descriptions stay on disk
until a request reads one.

Files live on a local disk (beside the SQLite file, or under ``VACREC_HOME``),
so a file lock is the right scope: it guards the files, not the database.
Replicas on other hosts build their own copy once each.

A folder is trusted only when its manifest names this catalog version of this
database (number, creation time, source, size), this code (a hash of the
modules that decide what the arrays mean) and these build options, and every
file matches its SHA-256; anything else is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from vacrec.catalog import terms as terms_module
from vacrec.catalog import text as text_module
from vacrec.ranking import cards as cards_module
from vacrec.ranking import index as index_module
from vacrec.ranking import meaning as meaning_module
from vacrec.ranking.cards import SPILL_PREFIX, CardTable
from vacrec.ranking.index import TfidfIndex

log = logging.getLogger(__name__)

FORMAT = 1
BUILD_WAIT_S = 1800.0
"""How long a process waits for another one building the same version (a million: minutes)."""
KEEP_VERSIONS = 3
"""Saved folders kept per cache; older ones are removed (a process mapping one keeps its
files: unlinking does not unmap)."""
STALE_SPILL_S = 2 * BUILD_WAIT_S
"""A build's spilled text column untouched this long belongs to a build that died (a live one
writes it, maps it and drops it within ``BUILD_WAIT_S``); pruning removes it."""
_INDEX_PREFIX, _CARD_PREFIX = "index.", "cards."


def code_fingerprint() -> str:
    """Hash of the modules that decide what the saved arrays mean (tokens, stems, weights,
    columns): a saved snapshot of other code is rebuilt, not misread."""
    digest = hashlib.sha256()
    for module in (text_module, terms_module, index_module, meaning_module, cards_module):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


class SavedSnapshots:
    """The saved snapshots of one cache folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def key(self, identity: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        """Folder name of one catalog version built with ``options`` by this code."""
        blob = json.dumps([identity, options, code_fingerprint(), FORMAT], sort_keys=True)
        return f"v{identity['version']}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"

    def lock(self, key: str) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        # One lock object per key in a process (re-entrant): an ingest that reserved the
        # build before committing its version then builds under the same lock.
        return FileLock(str(self.folder / f"{key}.lock"), timeout=BUILD_WAIT_S, is_singleton=True)

    def save(
        self,
        key: str,
        manifest: Mapping[str, Any],
        index: TfidfIndex,
        cards: CardTable,
    ) -> Path:
        """Write every array and the manifest into a new folder, then rename it into place
        (atomic: a reader sees the whole folder or none)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / key
        staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.folder))
        try:
            files: dict[str, str] = {}
            arrays = {
                **{_INDEX_PREFIX + k: v for k, v in index.arrays().items()},
                **{_CARD_PREFIX + k: v for k, v in cards.arrays().items()},
            }
            for name, array in arrays.items():
                path = staging / f"{name}.npy"
                _save_array(path, array)
                files[name] = _sha256(path)
            document = {**manifest, "format": FORMAT, "files": files}
            (staging / "manifest.json").write_text(json.dumps(document, ensure_ascii=False))
            if target.exists():  # a damaged folder being replaced
                shutil.rmtree(target)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune(keep=key)
        return target

    def load(
        self, key: str, expected: Mapping[str, Any]
    ) -> tuple[dict[str, Any], TfidfIndex, CardTable] | None:
        """The saved snapshot ``key`` memory-mapped, or None when it is missing, damaged or
        was saved for anything other than ``expected`` (manifest fields)."""
        folder = self.folder / key
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            return None
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("format") != FORMAT or any(
                manifest.get(k) != v for k, v in expected.items()
            ):
                log.warning("saved snapshot %s is for another catalog or code; rebuilding", key)
                return None
            arrays: dict[str, np.ndarray] = {}
            for name, checksum in manifest["files"].items():
                path = folder / f"{name}.npy"
                if _sha256(path) != checksum:
                    log.warning("saved snapshot %s: %s is damaged; rebuilding", key, path.name)
                    return None
                mapped = np.load(path, mmap_mode="r", allow_pickle=False)
                # A plain ndarray over the same mapped pages: slicing an np.memmap runs Python
                # code on every access (a request slices the card columns ~170 times).
                arrays[name] = mapped.view(np.ndarray)
            index = TfidfIndex.from_arrays(_strip(arrays, _INDEX_PREFIX))
            cards = CardTable(_strip(arrays, _CARD_PREFIX))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("saved snapshot %s is unreadable (%s); rebuilding", key, error)
            return None
        return manifest, index, cards

    def _prune(self, keep: str) -> None:
        """Remove all but the ``KEEP_VERSIONS`` newest folders (and never ``keep``)."""
        folders = sorted(
            (p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in folders[KEEP_VERSIONS:]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)  # its lock file stays: it may be held
        now = time.time()
        for spill in self.folder.glob(f"{SPILL_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if now - spill.stat().st_mtime > STALE_SPILL_S:
                    spill.unlink()


def _save_array(path: Path, array: np.ndarray) -> None:
    """``np.save``, except that a column mapped whole from a file (the cards' big text
    columns while building) is copied file to file: ``np.save`` would read it through the
    mapping and make gigabytes of it resident in this process."""
    mapped = array if isinstance(array, np.memmap) else None
    source = mapped.filename if mapped is not None else None
    whole = (
        mapped is not None
        and source is not None
        and array.ndim == 1
        and mapped.offset == 0
        and array.flags.c_contiguous
        and array.nbytes == os.path.getsize(source)
    )
    if not whole:
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        return
    header = np.lib.format.header_data_from_array_1_0(array)
    with path.open("wb") as out, open(str(source), "rb") as column:
        np.lib.format.write_array_header_1_0(out, header)
        shutil.copyfileobj(column, out, 2**20)


def _strip(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
