"""A response body the workers of one host share through a file, computed by one of them.

Each ``vacrec serve`` worker is a process of its own: a per-worker cache of the dashboard's
figures still cost every worker the aggregate queries once per interval (0.65-0.9 s of a
core each at 47,000 events), which under a flood of dashboards took most of what the
seekers lost. Here the first worker that finds the file stale computes under a file lock
and replaces the file atomically; the others wait for that lock and read what it wrote.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as FileLockTimeout

LOCK_WAIT_S = 30.0
"""Longest a worker waits for another's computation before computing itself."""


class SharedBody:
    """The newest body under ``path``; fresh while younger than the caller's ``ttl_s``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fresh(self, ttl_s: float) -> tuple[bytes, float] | None:
        """(the body, its age in seconds) when the file is younger than ``ttl_s``, else None."""
        try:
            age = time.time() - self.path.stat().st_mtime
            if not 0 <= age < ttl_s:
                return None
            return self.path.read_bytes(), age
        except OSError:  # not written yet, or replaced while read: compute
            return None

    def get(self, ttl_s: float, compute: Callable[[], bytes]) -> tuple[bytes, float, bool]:
        """(the body, its age, whether this call computed it): the file's when fresh, else
        ``compute()``'s, computed by one worker at a time and saved for the others."""
        if (found := self.fresh(ttl_s)) is not None:
            return *found, False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(f"{self.path}.lock", timeout=LOCK_WAIT_S):
                if (found := self.fresh(ttl_s)) is not None:  # computed while we waited
                    return *found, False
                body = compute()
                self._save(body)
                return body, 0.0, True
        except FileLockTimeout:
            return compute(), 0.0, True

    def _save(self, body: bytes) -> None:
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
        partial.write_bytes(body)
        os.replace(partial, self.path)  # a reader sees the old body or the new, never half
